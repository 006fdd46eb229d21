from rest_framework import serializers


class TrendingTopicSerializer(serializers.Serializer):
    topic = serializers.CharField()
    tweet_count = serializers.IntegerField()
    engagement_score = serializers.FloatField()
    growth_rate = serializers.FloatField()


class TrendingSerializer(serializers.Serializer):
    """The `data` of a `trending` message."""

    topics = TrendingTopicSerializer(many=True)
    count = serializers.IntegerField()
