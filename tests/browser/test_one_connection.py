"""One connection per tab: a signed-in page holds one WebSocket however far
it scrolls, and every tweet on screen keeps live counters on it."""

import time

from playwright.sync_api import expect

from .helpers import LIVE, tweet_card, wait_live

# Counts every WebSocket the page opens, and how many are open at once.
COUNT_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = { opened: 0, open: 0, most: 0, urls: [] };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const seen = window.__sockets;
      seen.opened += 1;
      seen.open += 1;
      seen.most = Math.max(seen.most, seen.open);
      seen.urls.push(String(args[0]));
      this.addEventListener("close", () => { seen.open -= 1; });
    }
  };
})();
"""


def test_a_tab_scrolling_a_feed_of_100_tweets_holds_one_socket_with_live_counters(
    pages, make_user, dashboard_server
):
    alice = make_user("Alice Scroller")
    authors = [make_user("Carol Poster"), make_user("Dave Poster")]
    liker = make_user("Bob Liker")
    for author in authors:
        assert (
            dashboard_server.api("POST", f"/api/users/{author['user_id']}/follow/", token=alice["token"])[0]
            == 200
        )
    tweet_ids = []
    for number in range(100):
        author = authors[number % 2]
        status, tweet = dashboard_server.api(
            "POST", "/api/tweets/", token=author["token"], body={"content": f"Tweet number {number}"}
        )
        assert status == 201, tweet
        tweet_ids.append(tweet["tweet_id"])

    page = pages.open(user=alice, init_script=COUNT_SOCKETS)
    wait_live(page)
    # Load and scroll through all 100, newest first.
    cards = page.get_by_test_id("tweet")
    while cards.count() < 100:
        before = cards.count()
        page.get_by_role("button", name="Show older tweets").click()
        expect(cards).not_to_have_count(before, timeout=LIVE)
    for index in range(0, 100, 5):
        cards.nth(index).scroll_into_view_if_needed()
        page.wait_for_timeout(50)

    # Back at a screenful in the middle: each visible tweet follows likes
    # made by another user, within a second.
    middle = tweet_ids[40:45]
    for tweet_id in middle:
        tweet_card(page, tweet_id).scroll_into_view_if_needed()
    card = tweet_card(page, middle[-1])
    expect(card).to_have_attribute("data-stream", "open", timeout=LIVE)
    for tweet_id in middle:
        card = tweet_card(page, tweet_id)
        if not card.is_visible():
            continue
        expect(card).to_have_attribute("data-stream", "open", timeout=LIVE)
        started = time.monotonic()
        assert dashboard_server.api("POST", f"/api/tweets/{tweet_id}/like/", token=liker["token"])[0] == 200
        expect(card.get_by_test_id("like-count")).to_have_text("1", timeout=1000)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"tweet {tweet_id}'s counter took {elapsed:.3f} s"

    sockets = page.evaluate("window.__sockets")
    assert sockets["opened"] == 1, sockets
    assert sockets["most"] == 1 and sockets["open"] == 1, sockets
    assert sockets["urls"][0].split("?")[0].endswith("/ws/"), sockets
