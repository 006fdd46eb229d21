from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import TrendingSerializer


class TrendingApi(APIView):
    """The latest trending topics, as the `data` of a `trending` message."""

    # Public, like the /ws/trending stream it mirrors.
    permission_classes = [AllowAny]

    @extend_schema(responses=TrendingSerializer)
    def get(self, request):
        return Response(selectors.trending_latest())
