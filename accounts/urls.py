from django.urls import path

from . import apis

urlpatterns = [
    path("auth/register/", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", apis.TokenApi.as_view(), name="auth-token"),
    path("auth/token/rotate/", apis.TokenRotateApi.as_view(), name="auth-token-rotate"),
    path("auth/password/", apis.PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/login/", apis.LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", apis.MeApi.as_view(), name="auth-me"),
    path("auth/ws-ticket/", apis.WebSocketTicketApi.as_view(), name="auth-ws-ticket"),
]
