"""Stored XSS through the dashboard, and reflected XSS through the API docs.

Anyone may sign up, pick a display name and tweet, and ordinary HTML
characters are allowed in names, tweets and explicit topics (visible_text.py
rejects only what renders as nothing or reorders text). So a hostile user's
markup reaches other people's dashboards over REST and over the WebSocket
streams: as a tweet's author and text in the feed, as the actor of a like,
reply, mention, follow or retweet in the notifications, as the one typing a
reply, in people search, and as a topic in trending. React puts all of it
in the page as text, never as HTML, and the tweet text makes links of
http(s) URLs only. These tests pin that: every payload is shown literally,
`window.__xss` (which each payload would set) stays undefined, no element
carries an inline event handler, no link leads to `javascript:`, and the
page throws nothing. The API docs (Swagger UI) take no spec from the query
string (`?url=`, `?configUrl=`), so a link to them cannot run a script there.

These pin defences that held against an outside attack: they pass on the
current code and fail if a component renders text as HTML
(dangerouslySetInnerHTML, innerHTML), makes links of other schemes, or
Swagger UI is configured to read its spec URL from the query string.
"""

import subprocess
import sys
import time
from itertools import count
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from .conftest import REPO_ROOT
from .helpers import LIVE, badge, tweet_card, wait_live, wait_tweet_live

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
SVG = '"><svg onload="window.__xss=3">'
# Each of the three would set window.__xss if it became markup.
HOSTILE_NAME = f"{IMG} {SCRIPT} {SVG}"
HOSTILE_TWEET = (
    f'{IMG} {SCRIPT} {SVG} <a href="javascript:window.__xss=4">click</a> '
    'javascript:window.__xss=5 https://example.com/"onmouseover="window.__xss=6"'
)
HOSTILE_TOPICS = [IMG, SCRIPT, SVG]

_names = count(1)


def no_script_ran(page: Page) -> None:
    """None of the payloads became markup in `page`, and none ran."""
    assert page.evaluate("typeof window.__xss") == "undefined", "a payload ran in the page"
    injected = page.evaluate(
        """() => ({
            handlers: [...document.querySelectorAll('*')]
                .filter(el => [...el.attributes].some(a => a.name.startsWith('on')))
                .map(el => el.outerHTML.slice(0, 120)),
            scripts: document.querySelectorAll('#root script').length,
            images: [...document.querySelectorAll('img')].map(el => el.outerHTML.slice(0, 120)),
            links: [...document.querySelectorAll('a[href]')]
                .map(a => a.getAttribute('href'))
                .filter(href => !/^(https?:\\/\\/|\\/)/i.test(href.trim())),
        })"""
    )
    assert injected == {"handlers": [], "scripts": 0, "images": [], "links": []}, injected


def hostile_sign_up(server) -> dict:
    username = f"mallory{next(_names)}_{int(time.time() * 1000) % 10_000_000}"
    return server.register(username, HOSTILE_NAME)


def post(server, author: dict, content: str, **fields) -> dict:
    status, tweet = server.api(
        "POST", "/api/tweets/", token=author["token"], body={"content": content, **fields}
    )
    assert status == 201, (status, tweet)
    return tweet


def act(server, actor: dict, path: str) -> None:
    status, answer = server.api("POST", path, token=actor["token"])
    assert status == 200, (path, status, answer)


def tweet_on_screen(page: Page, tweet_id: str):
    """The tweet's card, scrolled to (its live stream opens only in view), once live."""
    tweet_card(page, tweet_id).scroll_into_view_if_needed()
    return wait_tweet_live(page, tweet_id)


def recompute_trending(server) -> None:
    """Store a trending snapshot now, as the server's own recompute would within a minute."""
    result = subprocess.run(
        [sys.executable, "manage.py", "recompute_trending"],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hostile_names_and_tweets_show_as_text_to_other_users(pages, make_user, dashboard_server):
    server = dashboard_server
    vera = make_user("Vera Viewer")
    mallory = hostile_sign_up(server)
    assert mallory["display_name"] == HOSTILE_NAME

    # Before Vera's page opens: what she gets over REST.
    act(server, vera, f"/api/users/{mallory['user_id']}/follow/")
    act(server, mallory, f"/api/users/{vera['user_id']}/follow/")
    own = post(server, vera, "Vera's own tweet")
    act(server, mallory, f"/api/tweets/{own['tweet_id']}/like/")
    reply = post(server, mallory, HOSTILE_TWEET, reply_to=int(own["tweet_id"]))
    hostile = post(server, mallory, HOSTILE_TWEET, topics=HOSTILE_TOPICS)
    mention = post(
        server,
        mallory,
        f"@{vera['username']} {IMG}",
        topics=HOSTILE_TOPICS,
        reply_to=int(hostile["tweet_id"]),
    )
    recompute_trending(server)

    page = pages.open(user=vera)
    wait_live(page)

    # The feed: author, text (the links in it too), topics, "Replying to".
    card = wait_tweet_live(page, hostile["tweet_id"])
    expect(card.locator(".tweet__author")).to_have_text(HOSTILE_NAME)
    expect(card.locator(".tweet__text")).to_have_text(HOSTILE_TWEET)
    for topic in HOSTILE_TOPICS:
        expect(card.locator(".chip", has_text=topic)).to_have_text(topic)
    card.locator(".tweet__text a").hover()
    expect(tweet_card(page, reply["tweet_id"]).locator(".tweet__text")).to_have_text(HOSTILE_TWEET)
    answer = tweet_card(page, mention["tweet_id"])
    expect(answer.locator(".tweet__reply-to")).to_have_text(f"Replying to {HOSTILE_NAME}")

    # Trending: the explicit topics, each with its '#'.
    trending = page.get_by_test_id("trending")
    for topic in HOSTILE_TOPICS:
        expect(trending.locator(".trend__topic", has_text=topic)).to_have_text(f"#{topic}")

    # People search.
    page.get_by_test_id("people-search").fill(mallory["username"])
    person = page.locator(f'[data-testid="person"][data-user-id="{mallory["user_id"]}"]')
    expect(person).to_contain_text(HOSTILE_NAME)

    # Live, over the streams: a new tweet, a retweet, and Mallory typing a reply.
    live = post(server, mallory, f"{SVG} {SCRIPT}")
    page.get_by_test_id("load-new-tweets").click()
    expect(tweet_card(page, live["tweet_id"]).locator(".tweet__text")).to_have_text(f"{SVG} {SCRIPT}")
    own_card = tweet_on_screen(page, own["tweet_id"])
    mallory_page = pages.open(user=mallory)
    mallory_card = tweet_on_screen(mallory_page, own["tweet_id"])
    mallory_card.get_by_test_id("retweet-button").click()
    mallory_card.get_by_test_id("reply-button").click()
    mallory_card.get_by_test_id("reply-input").press_sequentially("soon", delay=20)
    expect(own_card.get_by_test_id("typing-indicator")).to_have_text(
        f"{HOSTILE_NAME} is typing a reply…", timeout=LIVE
    )

    # Notifications: a follow, a like, a reply, a mention (REST), a retweet (live).
    expect(badge(page)).to_have_text("5", timeout=LIVE)
    page.get_by_test_id("notifications-button").click()
    notifications = page.get_by_test_id("notification-panel").get_by_test_id("notification")
    expect(notifications).to_have_count(5)
    for said in ("followed you", "liked your tweet", "replied to your tweet", "mentioned you"):
        expect(notifications.filter(has_text=said)).to_contain_text(f"{HOSTILE_NAME} {said}")
    expect(notifications.first).to_contain_text(f"{HOSTILE_NAME} retweeted your tweet")
    pages.screenshot(page, "hostile-text-shown-as-text")

    no_script_ran(page)
    # Mallory's own page shows his name in the profile and menu: as text too.
    expect(mallory_page.get_by_test_id("me-name")).to_have_text(HOSTILE_NAME)
    no_script_ran(mallory_page)


def test_api_docs_take_no_spec_from_the_query_string(pages, dashboard_server):
    page = pages.open()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    evil = "https://evil.example/spec.json"
    page.goto(
        dashboard_server.url
        + f"/api/docs/?url={evil}&configUrl={evil}&lang=%3Cscript%3Ewindow.__xss%3D2%3C%2Fscript%3E"
    )
    # Our own spec, loaded from our own schema URL.
    expect(page.locator("#swagger-ui .title")).to_contain_text("Real-time social API", timeout=LIVE)
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, requested
    assert any(urlsplit(url).path == "/api/schema/" for url in requested), requested
    assert page.evaluate("typeof window.__xss") == "undefined"
