from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """For inspecting what was sent to whom; saving a new one here broadcasts it."""

    list_display = ["id", "recipient", "type", "actor", "tweet_id", "read", "created_at"]
    # One query for the page: recipient and actor are joined, tweet shown by id.
    list_select_related = ["recipient", "actor"]
    list_filter = ["type", "read", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["recipient__username", "actor__username"]
    raw_id_fields = ["recipient", "actor", "tweet"]
    date_hierarchy = "created_at"
