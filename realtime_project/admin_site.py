"""The Django admin of this project: the stock site, rate-limited sign-in."""

import math

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as StockAdminConfig
from django.http import HttpResponse

from realtime_project.throttles import PasswordAttemptThrottle


class AdminSite(admin.AdminSite):
    site_header = "Real-time social administration"

    def login(self, request, extra_context=None):
        """The stock sign-in, with a POST past the address's credentials
        limit refused with 429 before its password is checked. Showing the
        form (GET) is not limited."""
        if request.method == "POST":
            throttle = PasswordAttemptThrottle()
            if not throttle.allow_request(request, None):
                return too_many_sign_ins(throttle.wait())
        return super().login(request, extra_context)


def too_many_sign_ins(wait: float | None) -> HttpResponse:
    seconds = max(1, math.ceil(wait or 1))
    response = HttpResponse(
        f"Too many sign-in attempts from your address. Try again in {seconds} seconds.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response


class AdminConfig(StockAdminConfig):
    default_site = "realtime_project.admin_site.AdminSite"
