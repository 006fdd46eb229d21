from rest_framework import serializers

from feed.serializers import EngagementCountsSerializer


class TweetEngagementSerializer(serializers.Serializer):
    """A tweet's counters, as in `engagement_update` messages."""

    tweet_id = serializers.CharField()
    engagement = EngagementCountsSerializer(source="*")
