"""Registration, sign-in and API tokens: how a client gets the identity it
connects with, and how it ends (the services are in account_services.py)."""

from django.conf import settings
from django.contrib.auth import (
    authenticate,
    get_user_model,
    logout,
    password_validation,
    update_session_auth_hash,
)
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import CSRFCheck, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime_project.throttles import CredentialsRateThrottle, PasswordAttemptThrottle
from realtime_project.visible_text import visible_text

from . import usernames
from .names import display_name
from .services import (
    session_sign_in,
    token_for,
    token_rotate,
    user_password_change,
    user_register,
)
from .tickets import ticket_issue


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[usernames.username_characters])
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate_username(self, value):
        if get_user_model().objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        if usernames.username_lookalike_exists(value):
            raise serializers.ValidationError(
                "This username looks like an existing user's: choose one that reads differently."
            )
        return value

    def validate_display_name(self, value):
        # Blank is allowed: the username is shown instead.
        return visible_text(value, field="display name") if value else value

    def validate(self, attrs):
        candidate = get_user_model()(username=attrs["username"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except Exception as error:
            raise serializers.ValidationError(
                {"password": list(getattr(error, "messages", [str(error)]))}
            ) from error
        return attrs


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)

    def validate_old_password(self, value):
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError("Wrong password.")
        return value

    def validate_new_password(self, value):
        password_validation.validate_password(value, self.context["user"])
        return value


class TokenResultSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    token = serializers.CharField()


class MeSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    display_name = serializers.CharField()


def identity(user, *, with_token: bool = False) -> dict:
    """What a client needs to know about the signed-in user."""
    result = {"user_id": str(user.pk), "username": user.username, "display_name": display_name(user)}
    if with_token:
        result["token"] = token_for(user)
    return result


def csrf_failure(request) -> str | None:
    """Why `request` fails Django's CSRF check (as DRF's SessionAuthentication
    runs it); None if it passes."""
    check = CSRFCheck(lambda request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


class RegisterApi(APIView):
    """Create an account and answer with its token. The browser is signed in
    too (a session) when the request passes the CSRF check, as the
    dashboard's does: a script, with no cookies, gets the token only, and a
    form another site posts signs nobody in (login CSRF)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialsRateThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: TokenResultSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user, token = user_register(**serializer.validated_data)
        except IntegrityError:
            raise serializers.ValidationError({"username": ["This username is taken."]}) from None
        if csrf_failure(request._request) is None:
            session_sign_in(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response({**identity(user), "token": token}, status=status.HTTP_201_CREATED)


class CredentialsApi(APIView):
    """Takes a username and password; wrong ones are a 401, as for a bad token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialsRateThrottle]

    def get_authenticate_header(self, request):
        return "Token"

    def authenticated_user(self, request):
        """The user the request's username and password name; 401 if none."""
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise AuthenticationFailed("Wrong username or password.")
        return user


class TokenApi(CredentialsApi):
    @extend_schema(request=CredentialsSerializer, responses=TokenResultSerializer)
    def post(self, request):
        return Response(identity(self.authenticated_user(request), with_token=True))


class LoginApi(CredentialsApi):
    """Sign a browser in with a session cookie (the dashboard's way).

    Only a request that passes the CSRF check (the page's X-CSRFToken): a
    form another site posts would otherwise sign the visitor in as the
    attacker (login CSRF), and what they then type would be the attacker's
    to read. Scripts use the token endpoint, which sets no cookie.
    """

    @extend_schema(request=CredentialsSerializer, responses=TokenResultSerializer)
    def post(self, request):
        reason = csrf_failure(request._request)
        if reason is not None:
            raise PermissionDenied(f"CSRF Failed: {reason}")
        user = self.authenticated_user(request)
        session_sign_in(request._request, user)
        return Response(identity(user, with_token=True))


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(identity(request.user))


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds")


class WebSocketTicketApi(APIView):
    """A single-use ticket to open one WebSocket with `?ticket=` instead of `?token=`."""

    @extend_schema(request=None, responses={201: TicketSerializer})
    def post(self, request):
        ticket = ticket_issue(user=request.user)
        return Response(
            {"ticket": ticket.key, "expires_in": settings.REALTIME_TICKET_SECONDS},
            status=status.HTTP_201_CREATED,
        )


class TokenRotateApi(APIView):
    """Replace the caller's API token (say, one that leaked): the old one
    stops working at once, and the sockets opened with it close with 4401."""

    @extend_schema(request=None, responses=TokenResultSerializer)
    def post(self, request):
        key = token_rotate(user=request.user)
        return Response({**identity(request.user), "token": key})


class PasswordChangeApi(APIView):
    """Change the caller's password. Every credential made with the old one
    ends: the API token is replaced (the answer carries the new one), other
    sessions are signed out, and every socket of the user closes with 4401.
    The session making the change stays signed in."""

    throttle_classes = [PasswordAttemptThrottle]

    @extend_schema(request=PasswordChangeSerializer, responses=TokenResultSerializer)
    def post(self, request):
        user = request.user
        serializer = PasswordChangeSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        key = user_password_change(user=user, password=serializer.validated_data["new_password"])
        if isinstance(request.successful_authenticator, SessionAuthentication):
            update_session_auth_hash(request._request, user)
        return Response({**identity(user), "token": key})
