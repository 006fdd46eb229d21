"""One shape per resource, for REST responses and WebSocket `data` alike."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.names import display_name

from .models import Tweet
from .parsing import MAX_TOPICS


class EngagementCountsSerializer(serializers.Serializer):
    likes = serializers.IntegerField(source="likes_count")
    replies = serializers.IntegerField(source="replies_count")
    retweets = serializers.IntegerField(source="retweets_count")
    bookmarks = serializers.IntegerField(source="bookmarks_count")


class TweetSerializer(serializers.ModelSerializer):
    tweet_id = serializers.CharField(source="id", read_only=True)
    author_id = serializers.CharField(read_only=True)
    author_name = serializers.SerializerMethodField()
    topics = serializers.ListField(child=serializers.CharField(), read_only=True)
    reply_to = serializers.CharField(source="reply_to_id", read_only=True, allow_null=True)
    engagement = EngagementCountsSerializer(source="*", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Tweet
        fields = [
            "tweet_id",
            "author_id",
            "author_name",
            "content",
            "topics",
            "reply_to",
            "engagement",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_author_name(self, tweet) -> str:
        return display_name(tweet.author)


class ViewerStateSerializer(serializers.Serializer):
    liked = serializers.BooleanField()
    retweeted = serializers.BooleanField()
    bookmarked = serializers.BooleanField()


def viewer_state(tweet) -> dict:
    """What the viewer did to `tweet`, from with_viewer_state's annotations."""
    return {flag: bool(getattr(tweet, f"viewer_{flag}", 0)) for flag in ("liked", "retweeted", "bookmarked")}


class TimelinePageSerializer(serializers.Serializer):
    """A page of the home timeline. `viewer` maps tweet ids to what the
    signed-in user did to them: beside the tweets, not in them, because a
    tweet has one shape wherever a client meets it and a broadcast one
    cannot hold per-receiver state."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TweetSerializer(many=True)
    viewer = serializers.DictField(child=ViewerStateSerializer())


class TweetCreateSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=settings.TWEET_MAX_LENGTH, trim_whitespace=True)
    topics = serializers.ListField(
        child=serializers.CharField(max_length=50, trim_whitespace=True),
        max_length=MAX_TOPICS,
        required=False,
        default=list,
    )
    reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def validate_reply_to(self, value):
        if value is None:
            return None
        tweet = Tweet.objects.filter(pk=value).first()
        if tweet is None:
            raise serializers.ValidationError("No tweet with this id.")
        return tweet


class FollowResultSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    following = serializers.BooleanField()


class UserSerializer(serializers.Serializer):
    user_id = serializers.CharField(source="pk")
    username = serializers.CharField()
    display_name = serializers.SerializerMethodField()
    following = serializers.BooleanField()

    @extend_schema_field(serializers.CharField())
    def get_display_name(self, user) -> str:
        return display_name(user)
