from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.names import display_name

from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    notification_id = serializers.CharField(source="id", read_only=True)
    actor_id = serializers.CharField(read_only=True)
    actor_name = serializers.SerializerMethodField()
    tweet_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["notification_id", "type", "actor_id", "actor_name", "tweet_id", "read", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_actor_name(self, notification) -> str:
        return display_name(notification.actor)


class ReadResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    unread_count = serializers.IntegerField()
