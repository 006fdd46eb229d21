"""Login CSRF: a form on another site, posted by the victim's browser to the
sign-in or sign-up endpoint, must not sign the victim in as the attacker
(whose account would then get everything the victim types). Only requests
that pass Django's CSRF check (the dashboard's X-CSRFToken) start a
session; scripts keep using the token endpoint, and sign up with JSON."""

import http.cookiejar
import uuid
from urllib.parse import urlencode

from .helpers import PASSWORD, http_request

EVIL_ORIGIN = "http://evil.example"


def visited_dashboard(server) -> http.cookiejar.CookieJar:
    """A browser that has the dashboard's csrftoken cookie (and no session)."""
    cookies = http.cookiejar.CookieJar()
    status, _, _ = http_request(server.http_url + "/", cookies=cookies)
    assert status == 200
    assert "csrftoken" in names(cookies)
    return cookies


def names(cookies) -> set[str]:
    return {cookie.name for cookie in cookies}


def csrf_token(cookies) -> str:
    return next(cookie.value for cookie in cookies if cookie.name == "csrftoken")


def forged_form_post(server, path: str, fields: dict, cookies, *, origin: str | None):
    """What an attacker's page makes the browser send: a form post with the
    browser's cookies and no X-CSRFToken."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if origin is not None:
        headers["Origin"] = origin
    return http_request(
        server.http_url + path,
        "POST",
        data=urlencode(fields).encode(),
        headers=headers,
        cookies=cookies,
    )


def signed_in_as(server, cookies) -> str | None:
    status, body = server.api("GET", "/api/auth/me/", cookies=cookies)
    return body["username"] if status == 200 else None


def test_a_cross_site_form_cannot_sign_the_browser_in_as_the_attacker(live_server):
    attacker = live_server.register()
    for origin in (EVIL_ORIGIN, None):  # a browser that sends Origin, and one that does not
        victim = visited_dashboard(live_server)
        status, _, body = forged_form_post(
            live_server,
            "/api/auth/login/",
            {"username": attacker.username, "password": PASSWORD},
            victim,
            origin=origin,
        )
        assert status == 403, (origin, status, body)
        assert b"CSRF" in body, body
        assert "sessionid" not in names(victim)
        assert signed_in_as(live_server, victim) is None


def test_a_cross_site_form_cannot_sign_the_browser_up_and_in(live_server):
    victim = visited_dashboard(live_server)
    username = f"forged_{uuid.uuid4().hex[:8]}"
    status, _, body = forged_form_post(
        live_server,
        "/api/auth/register/",
        {"username": username, "password": PASSWORD},
        victim,
        origin=EVIL_ORIGIN,
    )
    # The account is made (anyone may make one), but the browser is not in it.
    assert status == 201, body
    assert "sessionid" not in names(victim)
    assert signed_in_as(live_server, victim) is None


def test_the_dashboard_signs_in_and_up_with_its_csrf_token(live_server):
    account = live_server.register()
    browser = visited_dashboard(live_server)
    page = {"X-CSRFToken": csrf_token(browser), "Origin": live_server.http_url}
    status, body = live_server.api(
        "POST",
        "/api/auth/login/",
        body={"username": account.username, "password": PASSWORD},
        cookies=browser,
        headers=page,
    )
    assert status == 200, body
    assert signed_in_as(live_server, browser) == account.username

    newcomer = visited_dashboard(live_server)
    username = f"newcomer_{uuid.uuid4().hex[:8]}"
    status, body = live_server.api(
        "POST",
        "/api/auth/register/",
        body={"username": username, "password": PASSWORD},
        cookies=newcomer,
        headers={"X-CSRFToken": csrf_token(newcomer), "Origin": live_server.http_url},
    )
    assert status == 201, body
    assert signed_in_as(live_server, newcomer) == username


def test_scripts_sign_up_and_get_tokens_without_cookies(live_server):
    username = f"script_{uuid.uuid4().hex[:8]}"
    received = http.cookiejar.CookieJar()  # what the server sets; a script sends none
    status, body = live_server.api(
        "POST",
        "/api/auth/register/",
        body={"username": username, "password": PASSWORD},
        cookies=received,
    )
    assert status == 201 and body["token"], (status, body)
    assert "sessionid" not in names(received)
    assert live_server.api("GET", "/api/auth/me/", body["token"])[0] == 200
    status, body = live_server.api(
        "POST", "/api/auth/token/", body={"username": username, "password": PASSWORD}
    )
    assert status == 200 and body["token"], (status, body)
    assert live_server.api("GET", "/api/auth/me/", body["token"])[0] == 200
