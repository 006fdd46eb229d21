from django.contrib import admin

from .models import TrendingSnapshot


@admin.register(TrendingSnapshot)
class TrendingSnapshotAdmin(admin.ModelAdmin):
    list_display = ["id", "computed_at", "window_minutes", "__str__"]
    list_filter = [("computed_at", admin.DateFieldListFilter)]
    readonly_fields = ["computed_at", "window_minutes", "topics"]
