"""Locators and waits shared by the browser tests."""

from playwright.sync_api import Page, expect

# Long enough for a loaded CI machine; a passing step never waits this long.
LIVE = 5_000


def tweet_card(page: Page, tweet_id: str):
    return page.locator(f'[data-testid="tweet"][data-tweet-id="{tweet_id}"]')


def badge(page: Page):
    return page.get_by_test_id("unread-badge")


def connection(page: Page):
    return page.get_by_test_id("connection-status")


def wait_live(page: Page, timeout: int = LIVE) -> None:
    """Wait until the page's own streams (notifications, feed, trending) are open."""
    expect(connection(page)).to_have_attribute("data-state", "live", timeout=timeout)


def wait_tweet_live(page: Page, tweet_id: str):
    """Wait until the tweet's card shows and its live counters stream is open; return the card."""
    card = tweet_card(page, tweet_id)
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-stream", "open", timeout=LIVE)
    return card
