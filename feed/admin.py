from django import forms
from django.contrib import admin

from . import services
from .models import Follow, Tweet
from .parsing import tweet_topics


class TweetAdminForm(forms.ModelForm):
    class Meta:
        model = Tweet
        fields = "__all__"

    def clean_content(self):
        # What tweet_create would store: trimmed, NFC, something visible.
        return services.tweet_content_validate(content=self.cleaned_data["content"])


@admin.register(Tweet)
class TweetAdmin(admin.ModelAdmin):
    form = TweetAdminForm
    list_display = ["id", "author", "short_content", "likes_count", "replies_count", "created_at"]
    list_select_related = ["author"]
    search_fields = ["content", "author__username"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    raw_id_fields = ["author", "reply_to"]
    readonly_fields = ["likes_count", "retweets_count", "replies_count", "bookmarks_count"]
    date_hierarchy = "created_at"

    @admin.display(description="content")
    def short_content(self, tweet):
        return tweet.content[:60]

    def save_model(self, request, obj, form, change):
        # The same topics as a tweet posted through the API: explicit + #hashtags.
        obj.topics = tweet_topics(obj.content, obj.topics)
        super().save_model(request, obj, form, change)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["id", "follower", "followee", "created_at"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]
    raw_id_fields = ["follower", "followee"]
