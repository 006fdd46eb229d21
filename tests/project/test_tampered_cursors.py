"""Tampered pagination cursors on each paginated endpoint, in process: `make
test` runs these on SQLite and again on PostgreSQL, whose id lookups fail
differently (tests/e2e/test_hostile_rest_input.py drives a live server)."""

import base64
from urllib.parse import quote, urlencode

import pytest

from engagement import services as engagement_services
from feed import services as feed_services

pytestmark = pytest.mark.django_db

PAGINATED = ["/api/feed/", "/api/notifications/", "/api/users/"]
TAMPERED_POSITIONS = {
    "letters": "abc",
    "fraction": "1.5",
    "5000-digits": "9" * 5000,
    "4000-digits": "9" * 4000,
    "nul": "\x00",
    "empty": "",
    "beyond-64-bits": str(2**63),
    "below-64-bits": str(-(2**63) - 1),
    "exponent": "1e3",
    "padded": " 1",
    "underscored": "1_000",
    "arabic-indic-digits": "\u0661\u0662",
}


def cursor(position: str, *, reverse: bool = False) -> str:
    """A cursor built as DRF encodes one, around `position`."""
    querystring = urlencode({"o": 0, "r": int(reverse), "p": position})
    return base64.b64encode(querystring.encode()).decode("ascii")


@pytest.fixture
def reader(alice, bob, carol):
    tweet = feed_services.tweet_create(author=alice, content="page me")
    feed_services.tweet_create(author=alice, content="and me")
    engagement_services.engagement_add(user=bob, tweet=tweet, kind="LIKE")
    engagement_services.engagement_add(user=carol, tweet=tweet, kind="LIKE")
    return alice


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("position", TAMPERED_POSITIONS.values(), ids=TAMPERED_POSITIONS.keys())
@pytest.mark.parametrize("path", PAGINATED)
def test_tampered_cursor_is_a_json_404(api_for, reader, path, position, reverse):
    response = api_for(reader).get(f"{path}?cursor={quote(cursor(position, reverse=reverse))}")
    assert response.status_code == 404, response.content[:300]
    assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("position", ["1", "-1", "0", str(2**63 - 1), str(-(2**63))])
@pytest.mark.parametrize("path", PAGINATED)
def test_cursor_with_any_64_bit_id_is_a_page(api_for, reader, path, position):
    for reverse in (False, True):
        response = api_for(reader).get(f"{path}?cursor={quote(cursor(position, reverse=reverse))}")
        assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("path", PAGINATED)
def test_cursors_the_server_wrote_page_through_every_item(api_for, reader, path):
    page = api_for(reader).get(f"{path}?page_size=1").json()
    seen = len(page["results"])
    while page["next"]:
        page = api_for(reader).get(page["next"]).json()
        seen += len(page["results"])
    assert seen == 2
