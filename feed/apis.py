"""REST endpoints for tweets, follows and the home timeline."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime_project.pagination import NewestFirstPagination

from . import selectors, services
from .models import Tweet
from .serializers import (
    FollowResultSerializer,
    TimelinePageSerializer,
    TweetCreateSerializer,
    TweetSerializer,
    UserSerializer,
    viewer_state,
)


class TweetCreateApi(APIView):
    @extend_schema(request=TweetCreateSerializer, responses={201: TweetSerializer})
    def post(self, request):
        serializer = TweetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tweet = services.tweet_create(author=request.user, **serializer.validated_data)
        return Response(TweetSerializer(tweet).data, status=status.HTTP_201_CREATED)


class TweetDetailApi(APIView):
    @extend_schema(responses=TweetSerializer)
    def get(self, request, tweet_id):
        return Response(TweetSerializer(tweet_or_404(tweet_id)).data)


class FollowApi(APIView):
    @extend_schema(request=None, responses={200: FollowResultSerializer})
    def post(self, request, user_id):
        followee = user_or_404(user_id)
        services.follow_create(follower=request.user, followee=followee)
        return Response({"user_id": str(followee.pk), "following": True})

    @extend_schema(request=None, responses={200: FollowResultSerializer})
    def delete(self, request, user_id):
        followee = user_or_404(user_id)
        services.follow_delete(follower=request.user, followee=followee)
        return Response({"user_id": str(followee.pk), "following": False})


def tweet_or_404(tweet_id) -> Tweet:
    tweet = selectors.tweet_get(tweet_id=tweet_id)
    if tweet is None:
        raise NotFound("No such tweet.")
    return tweet


def user_or_404(user_id):
    user = selectors.user_get(user_id=user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


class FeedApi(generics.GenericAPIView):
    """The home timeline, a page at a time, with the viewer's state beside it.

    Not a ListAPIView: its answer is a TimelinePage, which the schema must
    not wrap in a second page."""

    serializer_class = TweetSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        timeline = selectors.home_timeline(user=self.request.user)
        return selectors.with_viewer_state(timeline, viewer=self.request.user)

    @extend_schema(
        responses=TimelinePageSerializer,
        parameters=[
            OpenApiParameter("cursor", str, description="from a page's next/previous link"),
            OpenApiParameter("page_size", int, description="1-100, default 20"),
        ],
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        response = self.get_paginated_response(TweetSerializer(page, many=True).data)
        response.data["viewer"] = {str(tweet.pk): viewer_state(tweet) for tweet in page}
        return response


class UserListPagination(NewestFirstPagination):
    ordering = "id"


@extend_schema(parameters=[OpenApiParameter("q", str, description="part of a username or name")])
class UserListApi(generics.ListAPIView):
    """Other users, with whether you follow them (the dashboard's "who to follow").

    Operators are never listed (selectors.users_for)."""

    # Said here, not left to the project default: a directory of users is
    # for signed-in users only, whatever the default becomes.
    permission_classes = [IsAuthenticated]
    serializer_class = UserSerializer
    pagination_class = UserListPagination

    def get_queryset(self):
        search = self.request.query_params.get("q", "")[:150]
        return selectors.users_for(viewer=self.request.user, search=search)
