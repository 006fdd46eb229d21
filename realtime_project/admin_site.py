"""The Django admin of this project: the stock site, rate-limited sign-in."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as StockAdminConfig


class AdminSite(admin.AdminSite):
    site_header = "Real-time social administration"


class AdminConfig(StockAdminConfig):
    default_site = "realtime_project.admin_site.AdminSite"
