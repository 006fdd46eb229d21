"""REST rate limits: writes per user, sign-ins and registrations per address."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class WriteRateThrottle(UserRateThrottle):
    """Limit each user's writes (posts, likes, follows); reads are not limited."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class CredentialsRateThrottle(AnonRateThrottle):
    """Limit password guessing and mass registration per client address."""

    scope = "credentials"
