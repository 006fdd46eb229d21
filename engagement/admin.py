from django.contrib import admin

from .models import Engagement


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "tweet", "created_at"]
    list_select_related = ["user", "tweet", "tweet__author"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "tweet__content"]
    raw_id_fields = ["user", "tweet"]
