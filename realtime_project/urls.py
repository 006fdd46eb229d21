from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from realtime_project import api_errors, views
from realtime_project.realtime.ops.health import healthz, readyz
from realtime_project.realtime.ops.metrics import metrics_view
from realtime_project.realtime.ops.stats import stats_view

api_patterns = [
    path("", include("accounts.urls")),
    path("", include("feed.urls")),
    path("", include("engagement.urls")),
    path("", include("notifications.urls")),
    path("", include("trending.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Last: any other /api/ path is a JSON 404, like every other API error.
    re_path(r"", api_errors.not_found),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("ws/stats", stats_view, name="ws-stats"),
    path("ws/stats/", stats_view),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
