"""The REST API of PROTOCOL.md, against a live server: the actions that cause
the live events, their shapes, pagination, and errors (never a 500)."""

import http.cookiejar

import pytest

from .helpers import (
    PASSWORD,
    assert_engagement,
    assert_engagement_update,
    assert_id,
    assert_tweet,
    decode_json,
    http_request,
)

HUGE_ID = "99999999999999999999"


@pytest.fixture(scope="module")
def alice(live_server):
    return live_server.register("Alice Rest")


@pytest.fixture(scope="module")
def alice_tweet(live_server, alice):
    return live_server.post_tweet(alice, "a tweet for REST tests")


def assert_field_errors(status, body, *fields):
    assert status == 400, (status, body)
    assert isinstance(body, dict), body
    for field in fields:
        assert field in body and body[field], (field, body)


# --- Accounts ---------------------------------------------------------------------


def test_register_returns_identity_and_token(live_server):
    status, body = live_server.api(
        "POST",
        "/api/auth/register/",
        body={"username": "rest_newcomer", "password": PASSWORD, "display_name": "New Comer"},
    )
    assert status == 201, body
    assert_id(body["user_id"])
    assert body["username"] == "rest_newcomer"
    assert isinstance(body["token"], str) and body["token"]
    status, me = live_server.api("GET", "/api/auth/me/", body["token"])
    assert status == 200, me
    assert me == {
        "user_id": body["user_id"],
        "username": "rest_newcomer",
        "display_name": "New Comer",
    }


def test_register_refuses_taken_username_in_any_case(live_server, alice):
    body = {"username": alice.username.upper(), "password": PASSWORD}
    status, body = live_server.api("POST", "/api/auth/register/", body=body)
    assert_field_errors(status, body, "username")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "weak_pw_user", "password": "123"}, "password"),
        ({"username": "has space", "password": PASSWORD}, "username"),
        ({"password": PASSWORD}, "username"),
        ({"username": "no_password_user"}, "password"),
    ],
    ids=["weak-password", "bad-username", "no-username", "no-password"],
)
def test_register_refuses_bad_input_with_field_errors(live_server, body, field):
    assert_field_errors(*live_server.api("POST", "/api/auth/register/", body=body), field)


def test_token_endpoint_returns_the_users_token(live_server, alice):
    status, body = live_server.api(
        "POST", "/api/auth/token/", body={"username": alice.username, "password": PASSWORD}
    )
    assert status == 200, body
    assert body["user_id"] == alice.user_id
    assert body["token"] == alice.token


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/login/"])
def test_wrong_password_is_401(live_server, alice, path):
    # From the dashboard's page: the sign-in refuses a request without its CSRF token.
    cookies = http.cookiejar.CookieJar()
    http_request(live_server.http_url + "/", cookies=cookies)
    csrf = {cookie.name: cookie.value for cookie in cookies}["csrftoken"]
    status, body = live_server.api(
        "POST",
        path,
        body={"username": alice.username, "password": "wrong-Password-1"},
        cookies=cookies,
        headers={"X-CSRFToken": csrf},
    )
    assert status == 401, (status, body)
    assert "detail" in body


def test_login_sets_a_session_cookie_that_authenticates(live_server, alice):
    cookies = http.cookiejar.CookieJar()
    body = live_server.browser_sign_in(alice, cookies)
    assert body["user_id"] == alice.user_id
    assert "sessionid" in {cookie.name for cookie in cookies}
    status, me = live_server.api("GET", "/api/auth/me/", cookies=cookies)
    assert status == 200, me
    assert me["user_id"] == alice.user_id


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/auth/me/"),
        ("POST", "/api/tweets/"),
        ("GET", "/api/tweets/1/"),
        ("POST", "/api/tweets/1/like/"),
        ("POST", "/api/users/1/follow/"),
        ("GET", "/api/feed/"),
        ("GET", "/api/notifications/"),
        ("POST", "/api/notifications/read-all/"),
    ],
)
def test_no_credentials_is_401(live_server, method, path):
    status, body = live_server.api(method, path, body={} if method == "POST" else None)
    assert status == 401, (status, body)
    assert "detail" in body


def test_wrong_token_is_401(live_server):
    status, body = live_server.api("GET", "/api/auth/me/", token="not-a-real-token")
    assert status == 401, (status, body)


# --- Tweets -------------------------------------------------------------------------


def test_post_tweet_returns_201_and_the_tweet(live_server, alice):
    status, tweet = live_server.api("POST", "/api/tweets/", alice.token, {"content": "hello world"})
    assert status == 201, tweet
    assert_tweet(tweet, author=alice, content="hello world")
    assert tweet["reply_to"] is None and tweet["topics"] == []
    assert_engagement(tweet["engagement"])
    status, fetched = live_server.api("GET", f"/api/tweets/{tweet['tweet_id']}/", alice.token)
    assert status == 200 and fetched == tweet


def test_hashtags_join_topics_case_folded(live_server, alice):
    tweet = live_server.post_tweet(alice, "#AI and #ai and #Startups", topics=["Ai"])
    assert [topic.casefold() for topic in tweet["topics"]] == ["ai", "startups"]


def test_reply_names_its_parent(live_server, alice, alice_tweet):
    reply = live_server.post_tweet(alice, "a reply", reply_to=alice_tweet["tweet_id"])
    assert reply["reply_to"] == alice_tweet["tweet_id"]


def test_tweet_of_280_characters_is_accepted(live_server, alice):
    tweet = live_server.post_tweet(alice, "x" * 280)
    assert len(tweet["content"]) == 280


@pytest.mark.parametrize(
    "body, field",
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 281}, "content"),
        ({}, "content"),
        ({"content": "nul \x00 inside"}, "content"),
        ({"content": 5 * "ok ", "topics": "not-a-list"}, "topics"),
        ({"content": "too many topics", "topics": [f"t{i}" for i in range(11)]}, "topics"),
        ({"content": "long topic", "topics": ["x" * 51]}, "topics"),
        ({"content": "reply to nothing", "reply_to": "987654321"}, "reply_to"),
        ({"content": "reply to huge", "reply_to": HUGE_ID}, "reply_to"),
        ({"content": "reply to text", "reply_to": "abc"}, "reply_to"),
    ],
    ids=[
        "empty",
        "blank",
        "281-chars",
        "missing",
        "nul-char",
        "topics-not-list",
        "11-topics",
        "topic-too-long",
        "reply-unknown",
        "reply-huge",
        "reply-text",
    ],
)
def test_bad_tweet_is_400_with_field_errors(live_server, alice, body, field):
    assert_field_errors(*live_server.api("POST", "/api/tweets/", alice.token, body), field)


@pytest.mark.parametrize("tweet_id", ["987654321", "abc", HUGE_ID, "-1"])
@pytest.mark.parametrize("method, suffix", [("GET", ""), ("POST", "like/"), ("DELETE", "bookmark/")])
def test_unknown_tweet_is_404(live_server, alice, tweet_id, method, suffix):
    status, body = live_server.api(method, f"/api/tweets/{tweet_id}/{suffix}", alice.token)
    assert status == 404, (status, body)
    assert "detail" in body


@pytest.mark.parametrize("action", ["like", "retweet", "bookmark"])
def test_engagement_counts_and_repeats_harmlessly(live_server, alice, action):
    fan = live_server.register()
    tweet = live_server.post_tweet(alice, f"{action} me")
    counter = {"like": "likes", "retweet": "retweets", "bookmark": "bookmarks"}[action]
    for _ in range(2):
        assert_engagement_update(live_server.engage(fan, tweet, action), tweet, **{counter: 1})
    for _ in range(2):
        assert_engagement_update(live_server.engage(fan, tweet, action, "DELETE"), tweet)
    status, fetched = live_server.api("GET", f"/api/tweets/{tweet['tweet_id']}/", fan.token)
    assert status == 200
    assert_engagement(fetched["engagement"])


# --- Follows ----------------------------------------------------------------------


def test_follow_and_unfollow(live_server, alice):
    fan = live_server.register()
    path = f"/api/users/{alice.user_id}/follow/"
    for _ in range(2):  # repeating is harmless
        status, body = live_server.api("POST", path, fan.token)
        assert (status, body) == (200, {"user_id": alice.user_id, "following": True})
    for _ in range(2):
        status, body = live_server.api("DELETE", path, fan.token)
        assert (status, body) == (200, {"user_id": alice.user_id, "following": False})


def test_follow_self_is_400(live_server, alice):
    status, body = live_server.api("POST", f"/api/users/{alice.user_id}/follow/", alice.token)
    assert status == 400, (status, body)
    assert isinstance(body, dict) and body


@pytest.mark.parametrize("user_id", ["987654321", "abc", HUGE_ID, "0"])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_unknown_user_is_404(live_server, alice, user_id, method):
    status, body = live_server.api(method, f"/api/users/{user_id}/follow/", alice.token)
    assert status == 404, (status, body)
    assert "detail" in body


# --- Feed and notifications: newest first, cursor pagination ---------------------------


def all_pages(server, path, token, page_size=2):
    """Follow `next` links; return the pages' results."""
    pages = []
    url = f"{path}?page_size={page_size}" if "?" not in path else f"{path}&page_size={page_size}"
    while url:
        status, page = server.api("GET", url, token)
        assert status == 200, page
        assert set(page) >= {"results", "next"}, page
        assert len(page["results"]) <= page_size
        pages.append(page["results"])
        url = page["next"] and page["next"].removeprefix(server.http_url)
        assert len(pages) < 50, "pagination does not end"
    return pages


def test_feed_is_newest_first_with_cursor_pagination(live_server):
    reader, followed = live_server.register(), live_server.register()
    stranger = live_server.register()
    live_server.follow(reader, followed)
    posted = [live_server.post_tweet(followed, f"followed tweet {i}") for i in range(3)]
    posted.append(live_server.post_tweet(reader, "reader's own tweet"))
    live_server.post_tweet(stranger, "not in the feed")
    pages = all_pages(live_server, "/api/feed/", reader.token)
    assert len(pages) == 2
    feed = [tweet for page in pages for tweet in page]
    assert feed == posted[::-1]


def test_notifications_are_newest_first_with_cursor_pagination(live_server):
    me, fans = live_server.register(), [live_server.register() for _ in range(3)]
    for fan in fans:
        live_server.follow(fan, me)
    pages = all_pages(live_server, "/api/notifications/", me.token)
    notifications = [item for page in pages for item in page]
    assert [n["actor_id"] for n in notifications] == [fan.user_id for fan in reversed(fans)]
    assert all(n["type"] == "FOLLOW" and n["read"] is False for n in notifications)
    ids = [int(n["notification_id"]) for n in notifications]
    assert ids == sorted(ids, reverse=True)


def test_mark_read_and_read_all(live_server):
    me, fans = live_server.register(), [live_server.register() for _ in range(3)]
    for fan in fans:
        live_server.follow(fan, me)
    status, page = live_server.api("GET", "/api/notifications/?unread=1", me.token)
    assert status == 200 and len(page["results"]) == 3
    newest = page["results"][0]

    read_path = f"/api/notifications/{newest['notification_id']}/read/"
    status, body = live_server.api("POST", read_path, me.token)
    assert (status, body) == (200, {"updated": 1, "unread_count": 2})
    status, body = live_server.api("POST", read_path, me.token)
    assert (status, body) == (200, {"updated": 0, "unread_count": 2})
    status, page = live_server.api("GET", "/api/notifications/?unread=1", me.token)
    unread = [n["notification_id"] for n in page["results"]]
    assert len(unread) == 2 and newest["notification_id"] not in unread
    status, page = live_server.api("GET", "/api/notifications/", me.token)
    assert [n["read"] for n in page["results"]] == [True, False, False]

    status, body = live_server.api("POST", "/api/notifications/read-all/", me.token)
    assert (status, body) == (200, {"updated": 2, "unread_count": 0})
    status, page = live_server.api("GET", "/api/notifications/?unread=1", me.token)
    assert status == 200 and page["results"] == []


def test_reading_someone_elses_notification_is_404(live_server):
    me, fan, other = live_server.register(), live_server.register(), live_server.register()
    live_server.follow(fan, me)
    status, page = live_server.api("GET", "/api/notifications/", me.token)
    mine = page["results"][0]["notification_id"]
    status, body = live_server.api("POST", f"/api/notifications/{mine}/read/", other.token)
    assert status == 404, (status, body)
    status, page = live_server.api("GET", "/api/notifications/?unread=1", me.token)
    assert len(page["results"]) == 1


@pytest.mark.parametrize("notification_id", ["987654321", "abc", HUGE_ID, "0"])
def test_unknown_notification_is_404(live_server, alice, notification_id):
    path = f"/api/notifications/{notification_id}/read/"
    status, body = live_server.api("POST", path, alice.token)
    assert status == 404, (status, body)


# --- Trending, schema, docs ------------------------------------------------------------


def test_trending_answers_the_latest_trending_data(live_server):
    status, body = live_server.api("GET", "/api/trending/")
    assert status == 200, body
    assert set(body) == {"topics", "count"} and body["count"] == len(body["topics"])


def test_schema_and_docs_answer(live_server):
    status, headers, body = http_request(live_server.http_url + "/api/schema/")
    assert status == 200 and b"openapi" in body
    status, headers, body = http_request(live_server.http_url + "/api/docs/")
    assert status == 200 and headers.get("Content-Type", "").startswith("text/html")


# --- Bad input is a 4xx, never a 500 -----------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"content": "unterminated',
        "not json at all",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "\xff\xfe",
    ],
    ids=["truncated", "garbage", "array", "string", "number", "null", "not-utf8"],
)
@pytest.mark.parametrize("path", ["/api/tweets/", "/api/auth/register/", "/api/auth/token/"])
def test_malformed_body_is_400(live_server, alice, path, raw):
    token = alice.token if path == "/api/tweets/" else None
    data = raw.encode("latin-1")
    status, body = live_server.api("POST", path, token, raw_body=data)
    assert status == 400, (status, body)
    assert isinstance(body, dict), body


@pytest.mark.parametrize(
    "path",
    ["/api/feed/?cursor=garbage", "/api/notifications/?cursor=%00", "/api/feed/?page_size=abc"],
)
def test_bad_query_parameters_are_not_a_server_error(live_server, alice, path):
    status, body = live_server.api("GET", path, alice.token)
    assert status < 500, (status, body)
    assert isinstance(body, dict), body


def test_unknown_api_path_is_a_json_404(live_server, alice):
    status, headers, body = http_request(
        live_server.http_url + "/api/no-such-thing/",
        headers={"Authorization": f"Token {alice.token}"},
    )
    assert status == 404
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    assert isinstance(decode_json(body), dict)
