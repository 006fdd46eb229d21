"""REST endpoints for a user's notifications and their read state."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime_project.pagination import NewestFirstPagination

from . import selectors, services
from .serializers import NotificationSerializer, ReadResultSerializer


@extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="only unread ones")])
class NotificationListApi(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        unread_only = self.request.query_params.get("unread", "").lower() in {"1", "true", "yes"}
        return selectors.notifications_for(user=self.request.user, unread_only=unread_only)

    def list(self, request, *args, **kwargs):
        # The badge's figure, so a client need not page through unread ones.
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = selectors.unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=ReadResultSerializer)
    def post(self, request, notification_id):
        notification = (
            selectors.notifications_for(user=request.user).filter(pk=_int_or_none(notification_id)).first()
        )
        if notification is None:
            raise NotFound("No such notification.")
        updated = services.notification_mark_read(user=request.user, notification_id=notification.pk)
        return Response({"updated": updated, "unread_count": selectors.unread_count(user=request.user)})


class NotificationReadAllApi(APIView):
    @extend_schema(request=None, responses=ReadResultSerializer)
    def post(self, request):
        updated = services.notifications_mark_all_read(user=request.user)
        return Response({"updated": updated, "unread_count": 0})


def _int_or_none(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None
