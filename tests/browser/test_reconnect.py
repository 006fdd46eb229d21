"""The server restarts under an open page: it reconnects by itself and shows
what happened while it was away."""

import json
import time

from playwright.sync_api import expect

from .conftest import Daphne
from .helpers import LIVE, badge, connection, tweet_card, wait_live, wait_tweet_live

# The client retries after ~3 s, ~6 s, ~12 s (each ±20%): a restart that takes
# a few seconds is over by the second or third try.
RECONNECT = 30_000


def test_page_reconnects_after_a_restart_and_catches_up(pages, make_user, dashboard_server):
    alice = make_user("Alice Watcher")
    bob = make_user("Bob Busy")
    for follower, followee in ((alice, bob), (bob, alice)):
        status, _ = dashboard_server.api(
            "POST", f"/api/users/{followee['user_id']}/follow/", token=follower["token"]
        )
        assert status == 200
    status, tweet = dashboard_server.api(
        "POST", "/api/tweets/", token=alice["token"], body={"content": "Watching the servers #Ops"}
    )
    assert status == 201
    tweet_id = tweet["tweet_id"]
    # Bob's follow was a notification: read it, so the badge starts empty.
    assert dashboard_server.api("POST", "/api/notifications/read-all/", token=alice["token"])[0] == 200

    page = pages.open(user=alice)
    wait_live(page)
    card = wait_tweet_live(page, tweet_id)
    expect(badge(page)).to_have_count(0)
    expect(card.get_by_test_id("like-count")).to_have_text("")

    # What the page sends on every socket it opens from now on (its
    # subscribes, with their resume points, on the one /ws/ connection).
    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(str(payload))))

    # The server restarts (it drains: `reconnect`, then 1012) and stays away
    # a while: the page says so, and keeps retrying.
    dashboard_server.stop()
    try:
        server_down_then_back(pages, page, dashboard_server, alice, bob, tweet_id, sent)
    finally:
        # Whatever failed, the next tests get their server back.
        if dashboard_server.process is None or dashboard_server.process.poll() is not None:
            dashboard_server.start()


def server_down_then_back(pages, page, dashboard_server, alice, bob, tweet_id, sent):
    expect(connection(page)).to_have_attribute("data-state", "restarting", timeout=LIVE)
    expect(connection(page)).to_contain_text("Server restarting")
    pages.screenshot(page, "server-down")

    # While it is away, Bob likes Alice's tweet and posts one of his own,
    # through another server process on the same database.
    stand_in = Daphne(dashboard_server.workdir, name="stand-in")
    stand_in.start()
    try:
        assert stand_in.api("POST", f"/api/tweets/{tweet_id}/like/", token=bob["token"])[0] == 200
        status, _ = stand_in.api(
            "POST", "/api/tweets/", token=bob["token"], body={"content": "Posted while you were away"}
        )
        assert status == 201
    finally:
        stand_in.stop()
    expect(connection(page)).not_to_have_attribute("data-state", "live")

    # The server is back on the same port: the page reconnects on its own,
    # asking for what it missed since the newest items it had seen.
    dashboard_server.start()
    wait_live(page, timeout=RECONNECT)

    def resumes(stream: str, since: str | None = None) -> bool:
        for payload in sent:
            try:
                frame = json.loads(payload)
            except ValueError:
                continue
            if frame.get("type") == "subscribe" and frame.get("stream") == stream and "since" in frame:
                if since is None or frame["since"] == since:
                    return True
        return False

    wanted = [(f"feed/{alice['user_id']}", tweet_id), (f"notifications/{alice['user_id']}", None)]
    # Playwright reports frames asynchronously: give its events a moment.
    deadline = time.monotonic() + 5
    while not all(resumes(*want) for want in wanted) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    for want in wanted:
        assert resumes(*want), (want, sent)

    # ...and shows what it missed: the notification, the count, the new tweet.
    expect(badge(page)).to_have_text("1", timeout=LIVE)
    # The tweet's live counters stream came back with the others, and its snapshot has the like.
    wait_tweet_live(page, tweet_id)
    expect(tweet_card(page, tweet_id).get_by_test_id("like-count")).to_have_text("1", timeout=LIVE)
    expect(page.get_by_test_id("load-new-tweets")).to_contain_text("Load 1 new tweet", timeout=LIVE)
    page.get_by_test_id("notifications-button").click()
    expect(page.get_by_test_id("notification").first).to_contain_text("Bob Busy liked your tweet")
    pages.screenshot(page, "after-restart")
    page.keyboard.press("Escape")

    # Live again: a retweet made now arrives as it happens.
    wait_tweet_live(page, tweet_id)
    assert dashboard_server.api("POST", f"/api/tweets/{tweet_id}/retweet/", token=bob["token"])[0] == 200
    expect(badge(page)).to_have_text("2", timeout=LIVE)
    expect(tweet_card(page, tweet_id).get_by_test_id("retweet-count")).to_have_text("1", timeout=LIVE)

    page.get_by_test_id("load-new-tweets").click()
    expect(page.get_by_test_id("tweet").first).to_contain_text("Posted while you were away")
