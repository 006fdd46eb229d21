"""REST endpoints: like, retweet, bookmark (POST) and their undo (DELETE)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from feed.apis import tweet_or_404

from . import services
from .models import Engagement
from .serializers import TweetEngagementSerializer


class EngagementApi(APIView):
    """POST records the engagement, DELETE undoes it; repeating either is harmless."""

    kind: str = ""

    @extend_schema(request=None, responses={200: TweetEngagementSerializer})
    def post(self, request, tweet_id):
        tweet = tweet_or_404(tweet_id)
        return Response(services.engagement_add(user=request.user, tweet=tweet, kind=self.kind))

    @extend_schema(request=None, responses={200: TweetEngagementSerializer})
    def delete(self, request, tweet_id):
        tweet = tweet_or_404(tweet_id)
        return Response(services.engagement_remove(user=request.user, tweet=tweet, kind=self.kind))


class LikeApi(EngagementApi):
    kind = Engagement.Kind.LIKE


class RetweetApi(EngagementApi):
    kind = Engagement.Kind.RETWEET


class BookmarkApi(EngagementApi):
    kind = Engagement.Kind.BOOKMARK
