"""A tab refused for a limit says why: the per-user connection cap shows as
"too many tabs" in the top bar, not as an endless "Reconnecting", and the
tab goes live once another of the user's connections closes."""

from playwright.sync_api import expect

from .helpers import LIVE, connection, wait_live

# Opens sockets on the user's notifications stream (as other tabs of the
# seed's client would), one after the other, each answered by the server
# and so counted, until the server refuses one with 4429: then the user holds
# exactly the server's REALTIME_MAX_CONNECTIONS_PER_USER, whatever it is set to.
FILL_THE_CAP = """
async ({ base, userId, token }) => {
  window.__held = [];
  for (let i = 0; i < 500; i++) {
    const socket = new WebSocket(`${base}/ws/notifications/${userId}?token=${token}`);
    const answer = await new Promise((resolve) => {
      socket.onopen = () => socket.send("ping");
      socket.onmessage = () => resolve("open");
      socket.onclose = (event) => resolve(event.code);
    });
    if (answer !== "open") return { held: window.__held.length, refusedWith: answer };
    socket.onmessage = null;
    window.__held.push(socket);
  }
  return { held: window.__held.length, refusedWith: null };
}
"""

CLOSE_ONE = "new Promise((resolve) => { const s = window.__held.pop(); s.onclose = resolve; s.close(); })"


def test_a_tab_over_the_per_user_connection_cap_says_too_many_tabs_and_recovers(
    pages, make_user, dashboard_server
):
    alice = make_user("Alice Tabs")
    others = pages.open()
    filled = others.evaluate(
        FILL_THE_CAP,
        {
            "base": dashboard_server.url.replace("http://", "ws://"),
            "userId": alice["user_id"],
            "token": alice["token"],
        },
    )
    assert filled["refusedWith"] == 4429 and filled["held"] > 0, filled

    page = pages.open(user=alice)
    status = connection(page)
    expect(status).to_have_attribute("data-state", "refused", timeout=LIVE)
    expect(status).to_have_attribute("data-code", "4429")
    expect(status).to_contain_text("Too many tabs open: close one to get live updates here")
    expect(status).not_to_contain_text("Reconnecting")

    # Another tab closes: "Retry now" brings this one live, without a reload.
    others.evaluate(CLOSE_ONE)
    status.get_by_role("button", name="Retry now").click()
    # Should the retry beat the server's counting the closed socket out, it
    # is refused once more and the next retry, one first backoff later, passes.
    wait_live(page, timeout=LIVE + 4_000)
    expect(status).to_contain_text("Live")
