"""Signing up, out and in through the dashboard's own forms."""

import re

from playwright.sync_api import expect

from .conftest import PASSWORD
from .helpers import wait_live


def test_sign_up_sign_out_and_sign_in_again(pages, dashboard_server):
    page = pages.open(username="visitor")
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(page).to_have_title(re.compile("Pulse"))
    pages.screenshot(page, "sign-in")

    # A wrong password is refused with a message, and the form stays.
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("auth-error")).to_have_text("Wrong username or password.")

    # Create an account: the page signs in with a session and goes live.
    page.get_by_role("tab", name="Create account").click()
    page.get_by_label("Display name").fill("Grace Hopper")
    page.get_by_label("Username").fill("grace_browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page.get_by_test_id("me-name")).to_have_text("Grace Hopper")
    expect(page.get_by_test_id("feed-empty")).to_be_visible()
    wait_live(page)

    # Signing out closes the streams and shows the sign-in form again.
    page.get_by_role("button", name="Grace Hopper").click()
    page.get_by_test_id("logout").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert page.request.get(dashboard_server.url + "/api/auth/me/").status in (401, 403)

    page.get_by_label("Username").fill("grace_browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("me-name")).to_have_text("Grace Hopper")
    wait_live(page)

    # The session survives a reload.
    page.reload()
    expect(page.get_by_test_id("me-name")).to_have_text("Grace Hopper")
    wait_live(page)


def test_posting_from_the_composer(pages, make_user):
    ada = make_user("Ada Lovelace")
    page = pages.open(user=ada)
    wait_live(page)
    page.get_by_test_id("composer-input").fill("First program ever written #Engines @nobody")
    page.get_by_test_id("composer-submit").click()
    card = page.get_by_test_id("tweet").first
    expect(card).to_contain_text("First program ever written")
    expect(card.locator(".tweet__hashtag")).to_have_text("#Engines")
    expect(page.get_by_test_id("composer-input")).to_have_value("")
