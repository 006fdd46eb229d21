"""Two people in two browsers: what one does shows up on the other's page, live."""

import time

from playwright.sync_api import expect

from .helpers import LIVE, badge, tweet_card, wait_live, wait_tweet_live


def test_like_updates_the_authors_badge_within_a_second(pages, make_user):
    alice = make_user("Alice Author")
    bob = make_user("Bob Reader")
    page_a = pages.open(user=alice)
    page_b = pages.open(user=bob)
    wait_live(page_a)
    wait_live(page_b)

    # Alice posts from her composer.
    page_a.get_by_test_id("composer-input").fill("Our launch is live! #Launch")
    page_a.get_by_test_id("composer-submit").click()
    alice_card = page_a.get_by_test_id("tweet").first
    expect(alice_card).to_contain_text("Our launch is live!")
    tweet_id = alice_card.get_attribute("data-tweet-id")

    # Bob finds Alice and follows her; her tweet comes into his feed.
    page_b.get_by_test_id("people-search").fill(alice["username"])
    person = page_b.locator(f'[data-testid="person"][data-user-id="{alice["user_id"]}"]')
    person.get_by_test_id("follow-button").click()
    expect(person.get_by_test_id("follow-button")).to_contain_text("Following")
    bob_card = wait_tweet_live(page_b, tweet_id)

    # Alice hears about the follow at once; she reads it and the badge goes.
    expect(badge(page_a)).to_have_text("1", timeout=LIVE)
    page_a.get_by_test_id("notifications-button").click()
    expect(page_a.get_by_test_id("notification").first).to_contain_text("Bob Reader followed you")
    page_a.get_by_role("button", name="Mark all as read").click()
    expect(badge(page_a)).to_have_count(0)
    page_a.keyboard.press("Escape")
    wait_tweet_live(page_a, tweet_id)

    # Bob likes the tweet: Alice's badge says so within a second.
    started = time.monotonic()
    bob_card.get_by_test_id("like-button").click()
    expect(badge(page_a)).to_have_text("1", timeout=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"badge took {elapsed:.3f} s"

    # ... and both pages show the new count; Bob's button is on.
    expect(tweet_card(page_a, tweet_id).get_by_test_id("like-count")).to_have_text("1", timeout=LIVE)
    expect(bob_card.get_by_test_id("like-count")).to_have_text("1")
    expect(bob_card.get_by_test_id("like-button")).to_have_attribute("aria-pressed", "true")

    # A retweet and a bookmark update the counters too (a bookmark notifies nobody).
    bob_card.get_by_test_id("retweet-button").click()
    bob_card.get_by_test_id("bookmark-button").click()
    expect(tweet_card(page_a, tweet_id).get_by_test_id("retweet-count")).to_have_text("1", timeout=LIVE)
    expect(tweet_card(page_a, tweet_id).get_by_test_id("bookmark-count")).to_have_text("1", timeout=LIVE)
    expect(badge(page_a)).to_have_text("2", timeout=LIVE)

    page_a.get_by_test_id("notifications-button").click()
    panel = page_a.get_by_test_id("notification-panel")
    expect(panel.get_by_test_id("notification").first).to_contain_text("Bob Reader retweeted your tweet")
    expect(panel).to_contain_text("Bob Reader liked your tweet")
    pages.screenshot(page_a, "author-notified")
    pages.screenshot(page_b, "reader-liked")

    # Reading one notification lowers the badge by one.
    panel.get_by_test_id("notification").first.click()
    expect(badge(page_a)).to_have_text("1")

    # Unliking takes the count back down on both pages, and notifies nobody.
    bob_card.get_by_test_id("like-button").click()
    expect(tweet_card(page_a, tweet_id).get_by_test_id("like-count")).to_have_text("", timeout=LIVE)
    expect(bob_card.get_by_test_id("like-button")).to_have_attribute("aria-pressed", "false")
    expect(badge(page_a)).to_have_text("1")


def test_typing_indicator_and_reply(pages, make_user, dashboard_server):
    alice = make_user("Alice Author")
    bob = make_user("Bob Replier")
    status, _ = dashboard_server.api("POST", f"/api/users/{alice['user_id']}/follow/", token=bob["token"])
    assert status == 200
    status, tweet = dashboard_server.api(
        "POST", "/api/tweets/", token=alice["token"], body={"content": "What should we build next?"}
    )
    assert status == 201
    tweet_id = tweet["tweet_id"]
    # Bob's follow was a notification: read it, so the badge starts empty.
    assert dashboard_server.api("POST", "/api/notifications/read-all/", token=alice["token"])[0] == 200

    page_a = pages.open(user=alice)
    page_b = pages.open(user=bob)
    card_a = wait_tweet_live(page_a, tweet_id)
    card_b = wait_tweet_live(page_b, tweet_id)
    indicator = card_a.get_by_test_id("typing-indicator")
    expect(indicator).to_have_count(0)

    # Bob starts a reply: Alice sees him typing.
    card_b.get_by_test_id("reply-button").click()
    reply = card_b.get_by_test_id("reply-input")
    reply.press_sequentially("A realtime dashboard", delay=30)
    expect(indicator).to_have_text("Bob Replier is typing a reply…", timeout=LIVE)
    pages.screenshot(page_a, "typing-seen-by-author")
    pages.screenshot(page_b, "typing-reply")

    # He deletes it all: the indicator goes.
    reply.fill("")
    reply.press("Backspace")
    expect(indicator).to_have_count(0, timeout=LIVE)

    # He types again and sends: the indicator goes, the reply counts, Alice is told.
    reply.press_sequentially("A realtime dashboard!", delay=20)
    expect(indicator).to_be_visible(timeout=LIVE)
    card_b.get_by_test_id("reply-submit").click()
    expect(indicator).to_have_count(0, timeout=LIVE)
    expect(card_a.get_by_test_id("reply-count")).to_have_text("1", timeout=LIVE)
    expect(badge(page_a)).to_have_text("1", timeout=LIVE)
    page_a.get_by_test_id("notifications-button").click()
    expect(page_a.get_by_test_id("notification").first).to_contain_text("Bob Replier replied to your tweet")

    # Bob's reply is at the top of his own feed, marked as a reply to Alice.
    first_b = page_b.get_by_test_id("tweet").first
    expect(first_b).to_contain_text("A realtime dashboard!")
    expect(first_b).to_contain_text("Replying to Alice Author")


def test_new_tweets_wait_behind_a_button(pages, make_user, dashboard_server):
    alice = make_user("Alice Follower")
    carol = make_user("Carol Poster")
    status, _ = dashboard_server.api("POST", f"/api/users/{carol['user_id']}/follow/", token=alice["token"])
    assert status == 200

    page = pages.open(user=alice)
    wait_live(page)
    expect(page.get_by_test_id("feed-empty")).to_be_visible()
    expect(page.get_by_test_id("load-new-tweets")).to_have_count(0)

    for text in ("First news #Breaking", "Second news"):
        status, _ = dashboard_server.api("POST", "/api/tweets/", token=carol["token"], body={"content": text})
        assert status == 201
    button = page.get_by_test_id("load-new-tweets")
    expect(button).to_contain_text("Load 2 new tweets", timeout=LIVE)
    pages.screenshot(page, "new-tweets-button")

    button.click()
    expect(button).to_have_count(0)
    cards = page.get_by_test_id("tweet")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("Second news")
    expect(cards.nth(1)).to_contain_text("First news")
