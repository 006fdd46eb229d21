"""Hostile input against the REST API of a live server (issue 16): tampered
pagination cursors, JSON nested deeper than the parser's stack, and a user
search that would name the site's operators. Each answer is a JSON 4xx, or
the operators are simply not there; never a 500 page."""

import base64
import http.cookiejar
import uuid
from urllib.parse import quote, urlencode

import pytest

from .helpers import http_request

# Every paginated endpoint (realtime_project/pagination.py).
PAGINATED = ["/api/feed/", "/api/notifications/", "/api/users/"]

# DRF's cursor is base64 of a query string: o(ffset), r(everse), p(osition).
# Its positions are ids; these are what a client can put there instead.
TAMPERED_POSITIONS = {
    "letters": "abc",
    "fraction": "1.5",
    "5000-digits": "9" * 5000,
    "nul": "\x00",
    "empty": "",
    "beyond-64-bits": "9" * 25,
    "exponent": "1e3",
}


def cursor(position: str, *, reverse: bool = False) -> str:
    """A cursor built as DRF encodes one, around `position`."""
    querystring = urlencode({"o": 0, "r": int(reverse), "p": position})
    return base64.b64encode(querystring.encode("ascii")).decode("ascii")


@pytest.fixture(scope="module")
def reader(live_server):
    """A user with two of everything a page lists: tweets, notifications, users."""
    account, fan = live_server.register(), live_server.register()
    live_server.register()
    tweet = live_server.post_tweet(account, "page me")
    live_server.post_tweet(account, "and me")
    live_server.engage(fan, tweet, "like")
    live_server.engage(fan, tweet, "retweet")
    return account


def test_real_cursors_still_page(live_server, reader):
    for path in PAGINATED:
        status, page = live_server.api("GET", path + "?page_size=1", reader.token)
        assert status == 200 and page["next"], (path, status, page)
        auth = {"Authorization": f"Token {reader.token}"}
        status, _, body = http_request(page["next"], headers=auth)
        assert status == 200, (path, status, body[:300])


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("position", TAMPERED_POSITIONS.values(), ids=TAMPERED_POSITIONS.keys())
@pytest.mark.parametrize("path", PAGINATED)
def test_tampered_cursor_is_a_json_404_not_a_server_error(live_server, reader, path, position, reverse):
    status, headers, body = http_request(
        f"{live_server.http_url}{path}?cursor={quote(cursor(position, reverse=reverse))}",
        headers={"Authorization": f"Token {reader.token}", "Accept": "application/json"},
    )
    assert status == 404, (status, body[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    assert b"Invalid cursor" in body, body[:300]


# JSON's parser recurses once per level: a few kilobytes of brackets raise
# RecursionError, which is not the ValueError DRF turns into a 400.
NESTED_BODIES = {"arrays": "[" * 100_000, "objects": '{"a":' * 20_000 + "1" + "}" * 20_000}


# Sent last: they end the credential the others are sent with.
ENDS_CREDENTIALS = {"/api/auth/token/rotate/", "/api/auth/logout/"}


def api_writes(live_server) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every write of the live server's API, from its own OpenAPI schema (so
    an endpoint added later is covered): (method, path template) of those
    that take a body, and of those that take none."""
    status, schema = live_server.api("GET", "/api/schema/?format=json")
    assert status == 200, (status, schema)
    with_body, without_body = [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                kind = with_body if "requestBody" in operation else without_body
                kind.append((method.upper(), path))
    without_body.sort(key=lambda write: write[1] in ENDS_CREDENTIALS)
    return with_body, without_body


@pytest.mark.parametrize("raw", NESTED_BODIES.values(), ids=NESTED_BODIES.keys())
def test_deeply_nested_json_is_a_400_on_every_endpoint(live_server, raw):
    author, fan = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(author, "nest here")
    live_server.engage(fan, tweet, "like")
    status, page = live_server.api("GET", "/api/notifications/", author.token)
    assert status == 200 and page["results"], page
    ids = {
        "tweet_id": tweet["tweet_id"],
        "user_id": fan.user_id,
        "notification_id": page["results"][0]["notification_id"],
    }
    # The session sign-in reads its body only past the CSRF check: pass it.
    cookies = http.cookiejar.CookieJar()
    assert http_request(live_server.http_url + "/admin/login/", cookies=cookies)[0] == 200
    csrf = {"X-CSRFToken": next(c.value for c in cookies if c.name == "csrftoken")}

    def send(method, template):
        path = template.format(**ids)
        return live_server.api(method, path, author.token, raw_body=raw, cookies=cookies, headers=csrf)

    with_body, without_body = api_writes(live_server)
    assert ("POST", "/api/auth/register/") in with_body, with_body
    for method, template in with_body:
        status, body = send(method, template)
        assert (status, body) == (400, {"detail": "JSON parse error - nested too deeply"}), (
            method,
            template,
            status,
            body,
        )
    # The others never parse a body: whatever they answer, it is no 500.
    for method, template in without_body:
        status, body = send(method, template)
        assert status < 500 and (status == 204 or isinstance(body, dict)), (
            method,
            template,
            status,
            body,
        )
    # Nothing was lost: the server still answers.
    assert live_server.api("GET", "/api/auth/me/", fan.token)[0] == 200


# --- Operators are not in the public user search ------------------------------


def test_user_search_does_not_name_operators(live_server):
    tag = uuid.uuid4().hex[:10]
    created = live_server.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "users = get_user_model().objects\n"
        f"users.create_superuser('admin{tag}', password='x-Operator-2026!')\n"
        f"users.create_user('staff{tag}', password='x-Operator-2026!', is_staff=True)\n",
    )
    assert created.returncode == 0, created.stderr
    searcher = live_server.register()
    # A normal user whose names match the same searches stays findable.
    member = live_server.register(display_name=f"admin{tag} fan")
    found = {}
    for query in (f"admin{tag}", f"staff{tag}", tag):
        path = "/api/users/?" + urlencode({"q": query})
        status, page = live_server.api("GET", path, searcher.token)
        assert status == 200, (status, page)
        found[query] = {user["username"] for user in page["results"]}
    assert found == {
        f"admin{tag}": {member.username},
        f"staff{tag}": set(),
        tag: {member.username},
    }


def test_user_search_needs_a_signed_in_user(live_server):
    status, body = live_server.api("GET", "/api/users/?q=admin")
    assert status == 401, (status, body)
