from django.contrib import admin

from .models import WebSocketTicket


@admin.register(WebSocketTicket)
class WebSocketTicketAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "expires_at"]
    list_select_related = ["user"]
    # The key is a credential: never shown.
    exclude = ["key"]
    raw_id_fields = ["user"]
