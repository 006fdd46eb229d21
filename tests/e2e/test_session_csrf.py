"""Cross-site request forgery on the REST writes of a signed-in browser.

The dashboard calls the API with its session cookie, which a browser also
attaches to a form that another site posts to us. DRF's SessionAuthentication
runs Django's CSRF check on every unsafe request it authenticates, so such a
post (form-encoded, as a cross-site form sends it, with the attacker's Origin
and no X-CSRFToken, which the attacker's page cannot read) is refused with a
403 JSON error and writes nothing: no tweet in the victim's name, no like, no
follow, no notifications marked read. The same write from the dashboard's own
page (its X-CSRFToken) goes through, and a script's token needs no CSRF token,
since no browser attaches an Authorization header on another site's behalf.

These pin a defence that held against an outside attack: they pass on the
current code and fail if SessionAuthentication stops enforcing CSRF (a
CsrfExemptSessionAuthentication, @csrf_exempt on a view, or a session
authentication class of our own).
"""

import http.cookiejar
import uuid
from urllib.parse import urlencode

from .helpers import http_request

EVIL_ORIGIN = "http://evil.example"


def signed_in_browser(server, account) -> http.cookiejar.CookieJar:
    cookies = http.cookiejar.CookieJar()
    server.browser_sign_in(account, cookies)
    assert {cookie.name for cookie in cookies} >= {"sessionid", "csrftoken"}
    return cookies


def csrf_token(cookies) -> str:
    return next(cookie.value for cookie in cookies if cookie.name == "csrftoken")


def forged_post(server, path: str, cookies, fields: dict | None = None):
    """What a form on the attacker's site makes the victim's browser send:
    its cookies, the attacker's Origin, a form body, no X-CSRFToken."""
    status, _, body = http_request(
        server.http_url + path,
        "POST",
        data=urlencode(fields or {}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Origin": EVIL_ORIGIN,
        },
        cookies=cookies,
    )
    return status, body


def assert_refused_for_csrf(status: int, body: bytes) -> None:
    assert status == 403, (status, body)
    # A JSON error like every other REST error, saying why.
    assert body.startswith(b"{") and b"CSRF" in body, body


def dashboard_post(server, path: str, cookies, body: dict | None = None):
    """The same write from the dashboard's own page: its X-CSRFToken and Origin."""
    return server.api(
        "POST",
        path,
        body=body if body is not None else {},
        cookies=cookies,
        headers={"X-CSRFToken": csrf_token(cookies), "Origin": server.http_url},
    )


def own_feed_contents(server, account) -> list[str]:
    status, page = server.api("GET", "/api/feed/", account.token)
    assert status == 200, page
    return [tweet["content"] for tweet in page["results"]]


def likes_of(server, tweet: dict, reader) -> int:
    status, answer = server.api("GET", f"/api/tweets/{tweet['tweet_id']}/", reader.token)
    assert status == 200, answer
    return answer["engagement"]["likes"]


def follows(server, follower, followee) -> bool:
    status, page = server.api("GET", f"/api/users/?q={followee.username}", follower.token)
    assert status == 200, page
    [user] = [user for user in page["results"] if user["user_id"] == followee.user_id]
    return user["following"]


def unread_count(server, account) -> int:
    status, page = server.api("GET", "/api/notifications/", account.token)
    assert status == 200, page
    return page["unread_count"]


def test_a_cross_site_form_cannot_tweet_with_the_session(live_server):
    victim = live_server.register()
    browser = signed_in_browser(live_server, victim)
    forged = f"forged {uuid.uuid4().hex[:8]}"

    assert_refused_for_csrf(*forged_post(live_server, "/api/tweets/", browser, {"content": forged}))
    assert forged not in own_feed_contents(live_server, victim)

    status, tweet = dashboard_post(live_server, "/api/tweets/", browser, {"content": "mine"})
    assert status == 201, tweet
    assert "mine" in own_feed_contents(live_server, victim)


def test_a_cross_site_form_cannot_like_with_the_session(live_server):
    author, victim = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(author, "like bait")
    browser = signed_in_browser(live_server, victim)
    path = f"/api/tweets/{tweet['tweet_id']}/like/"

    assert_refused_for_csrf(*forged_post(live_server, path, browser))
    assert likes_of(live_server, tweet, author) == 0

    status, answer = dashboard_post(live_server, path, browser)
    assert status == 200, answer
    assert likes_of(live_server, tweet, author) == 1


def test_a_cross_site_form_cannot_follow_with_the_session(live_server):
    attacker, victim = live_server.register(), live_server.register()
    browser = signed_in_browser(live_server, victim)
    path = f"/api/users/{attacker.user_id}/follow/"

    assert_refused_for_csrf(*forged_post(live_server, path, browser))
    assert not follows(live_server, victim, attacker)
    assert unread_count(live_server, attacker) == 0

    status, answer = dashboard_post(live_server, path, browser)
    assert status == 200, answer
    assert follows(live_server, victim, attacker)


def test_a_cross_site_form_cannot_mark_notifications_read_with_the_session(live_server):
    victim, follower = live_server.register(), live_server.register()
    live_server.follow(follower, victim)
    assert unread_count(live_server, victim) == 1
    browser = signed_in_browser(live_server, victim)

    assert_refused_for_csrf(*forged_post(live_server, "/api/notifications/read-all/", browser))
    assert unread_count(live_server, victim) == 1

    status, answer = dashboard_post(live_server, "/api/notifications/read-all/", browser)
    assert status == 200, answer
    assert unread_count(live_server, victim) == 0


def test_token_authenticated_writes_need_no_csrf_token(live_server):
    author, reader = live_server.register(), live_server.register()
    received = http.cookiejar.CookieJar()  # a script: no cookies sent, whatever is set
    headers = {"Origin": EVIL_ORIGIN}

    body = {"content": "by script"}
    status, tweet = live_server.api(
        "POST", "/api/tweets/", author.token, body, cookies=received, headers=headers
    )
    assert status == 201, tweet
    path = f"/api/tweets/{tweet['tweet_id']}/like/"
    assert live_server.api("POST", path, reader.token, headers=headers)[0] == 200
    path = f"/api/users/{author.user_id}/follow/"
    assert live_server.api("POST", path, reader.token, headers=headers)[0] == 200
    assert unread_count(live_server, author) == 2  # the like and the follow
    status, answer = live_server.api("POST", "/api/notifications/read-all/", author.token, headers=headers)
    assert status == 200 and unread_count(live_server, author) == 0, answer
