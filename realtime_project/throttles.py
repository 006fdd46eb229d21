"""REST rate limits: writes per user, sign-ins and registrations per address."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ClientAddressMixin:
    """Count by the client's address as realtime/middleware/client_address.py resolves
    it (REMOTE_ADDR), never by an X-Forwarded-For the client wrote."""

    def get_ident(self, request):
        return request.META.get("REMOTE_ADDR", "")


class WriteRateThrottle(ClientAddressMixin, UserRateThrottle):
    """Limit each user's writes (posts, likes, follows); reads are not limited."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class CredentialsRateThrottle(ClientAddressMixin, AnonRateThrottle):
    """Limit password guessing and mass registration per client address."""

    scope = "credentials"


class PasswordAttemptThrottle(CredentialsRateThrottle):
    """The sign-in budget of the client address, with the same key, for
    every way of trying a password (REST sign-in, password change, the
    admin's form), counted for a signed-in caller too: DRF's anonymous
    throttle skips authenticated requests, and a signed-in user (or a
    stolen session) must not buy unlimited guesses at a password."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
