from django.contrib import admin
from django.db.models import Sum

from .models import Topic, TopicSpelling, TrendingSnapshot
from .ranking import most_used_spelling


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the counters and the recompute: look, don't touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The prune deletes; a Topic deleted by hand would break its counters' keys.
        return False


@admin.register(TrendingSnapshot)
class TrendingSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "computed_at",
        "window_minutes",
        "count",
        "changed",
        "broadcast_at",
        "__str__",
    ]
    list_filter = ["changed", ("computed_at", admin.DateFieldListFilter)]
    date_hierarchy = "computed_at"
    fields = ["computed_at", "window_minutes", "changed", "broadcast_at", "topics", "details"]

    @admin.display(description="topics")
    def count(self, snapshot):
        return len(snapshot.topics)


class TopicSpellingInline(admin.TabularInline):
    model = TopicSpelling
    fields = ["spelling", "uses"]
    readonly_fields = fields
    ordering = ["-uses", "spelling"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ["key", "shown_as", "tweets_kept", "engagements_kept", "last_seen_at"]
    search_fields = ["key"]
    date_hierarchy = "last_seen_at"
    fields = ["key", "last_seen_at"]
    inlines = [TopicSpellingInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(tweets_kept=Sum("buckets__tweets"), engagements_kept=Sum("buckets__engagements"))
            .prefetch_related("spellings")
        )

    @admin.display(description="shown as")
    def shown_as(self, topic):
        uses = {spelling.spelling: spelling.uses for spelling in topic.spellings.all()}
        return most_used_spelling(uses) if uses else topic.key

    @admin.display(description="tweets (retained buckets)", ordering="tweets_kept")
    def tweets_kept(self, topic):
        return topic.tweets_kept or 0

    @admin.display(description="engagements (retained buckets)", ordering="engagements_kept")
    def engagements_kept(self, topic):
        return topic.engagements_kept or 0
