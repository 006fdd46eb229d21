"""REST endpoints for tweets, follows and the home timeline."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime_project.pagination import NewestFirstPagination

from . import selectors, services
from .models import Tweet
from .serializers import (
    FollowResultSerializer,
    TweetCreateSerializer,
    TweetForViewerSerializer,
    UserSerializer,
)


class TweetCreateApi(APIView):
    @extend_schema(request=TweetCreateSerializer, responses={201: TweetForViewerSerializer})
    def post(self, request):
        serializer = TweetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tweet = services.tweet_create(author=request.user, **serializer.validated_data)
        return Response(TweetForViewerSerializer(tweet).data, status=status.HTTP_201_CREATED)


class TweetDetailApi(APIView):
    @extend_schema(responses=TweetForViewerSerializer)
    def get(self, request, tweet_id):
        tweet = tweet_or_404(tweet_id, viewer=request.user)
        return Response(TweetForViewerSerializer(tweet).data)


class FollowApi(APIView):
    @extend_schema(request=None, responses=FollowResultSerializer)
    def post(self, request, user_id):
        followee = user_or_404(user_id)
        services.follow_create(follower=request.user, followee=followee)
        return Response({"user_id": str(followee.pk), "following": True})

    @extend_schema(request=None, responses=FollowResultSerializer)
    def delete(self, request, user_id):
        followee = user_or_404(user_id)
        services.follow_delete(follower=request.user, followee=followee)
        return Response({"user_id": str(followee.pk), "following": False})


def tweet_or_404(tweet_id, *, viewer=None) -> Tweet:
    tweet = selectors.tweet_get(tweet_id=tweet_id, viewer=viewer)
    if tweet is None:
        raise NotFound("No such tweet.")
    return tweet


def user_or_404(user_id):
    user = selectors.user_get(user_id=user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


class FeedApi(generics.ListAPIView):
    serializer_class = TweetForViewerSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        timeline = selectors.home_timeline(user=self.request.user)
        return selectors.with_viewer_state(timeline, viewer=self.request.user)


class UserListPagination(NewestFirstPagination):
    ordering = "id"


@extend_schema(parameters=[OpenApiParameter("q", str, description="part of a username or name")])
class UserListApi(generics.ListAPIView):
    """Other users, with whether you follow them (the dashboard's "who to follow")."""

    serializer_class = UserSerializer
    pagination_class = UserListPagination

    def get_queryset(self):
        search = self.request.query_params.get("q", "")[:150]
        return selectors.users_for(viewer=self.request.user, search=search)
