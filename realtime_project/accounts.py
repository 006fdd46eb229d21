"""Registration and API tokens: how a client gets the identity it connects with."""

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout, password_validation
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from feed.serializers import display_name
from realtime_project.realtime.tickets import ticket_issue
from realtime_project.throttles import CredentialsRateThrottle


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.+-]+$",
        max_length=150,
        error_messages={"invalid": "Letters, digits and . + - _ only."},
    )
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate_username(self, value):
        if get_user_model().objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.")
        return value

    def validate(self, attrs):
        candidate = get_user_model()(username=attrs["username"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except Exception as error:
            raise serializers.ValidationError({"password": list(getattr(error, "messages", [str(error)]))})
        return attrs


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


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


def user_register(*, username: str, password: str, display_name: str = ""):
    """Create an active user with an API token. Return (user, token key)."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, password=password, first_name=display_name.strip()
        )
        token = Token.objects.create(user=user)
    return user, token.key


def token_for(user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialsRateThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: TokenResultSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user, _ = user_register(**serializer.validated_data)
        except IntegrityError:
            raise serializers.ValidationError({"username": ["This username is taken."]})
        # A browser registering is signed in too (session cookie); API clients use the token.
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(identity(user, with_token=True), status=status.HTTP_201_CREATED)


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
    """Sign a browser in with a session cookie (the dashboard's way)."""

    @extend_schema(request=CredentialsSerializer, responses=TokenResultSerializer)
    def post(self, request):
        user = self.authenticated_user(request)
        login(request._request, user)
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
