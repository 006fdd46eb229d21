import pytest
from rest_framework.settings import api_settings

from feed import services as feed_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    rates = dict(api_settings.DEFAULT_THROTTLE_RATES, writes="3/minute", credentials="2/minute")
    monkeypatch.setattr("rest_framework.throttling.SimpleRateThrottle.THROTTLE_RATES", rates)


def test_writes_past_the_rate_get_429_with_retry_after(api_for, alice, bob, low_rates):
    tweet = feed_services.tweet_create(author=alice, content="hi")
    api = api_for(bob)
    statuses = [api.post(f"/api/tweets/{tweet.pk}/like/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.post(f"/api/tweets/{tweet.pk}/like/")
    assert int(response["Retry-After"]) > 0
    assert api.get(f"/api/tweets/{tweet.pk}/").status_code == 200


def test_password_guessing_is_throttled(api_for, alice, low_rates):
    attempts = [
        api_for().post("/api/auth/token/", {"username": "alice", "password": "guess"}).status_code
        for _ in range(3)
    ]
    assert attempts == [401, 401, 429]
