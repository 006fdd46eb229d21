// @vitest-environment jsdom
import { act, cleanup, render } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { RealtimeProvider, summarize } from "../lib/use-websocket";
import type { ClientOptions } from "../lib/websocket-client";
import { ConnectionBadge } from "../src/components/TopBar";
import { recordingClients } from "./clients";
import { envelope, FakeWebSocket, FakeWindow } from "./fake-websocket";

/** `document` as the client sees it: visibility events and state. */
class FakeDocument extends FakeWindow {
  visibilityState: "visible" | "hidden" = "visible";

  show(state: "visible" | "hidden"): void {
    this.visibilityState = state;
    this.dispatch("visibilitychange");
  }
}

const clients = recordingClients();
let doc: FakeDocument;

/** A client that also listens to `doc`, which the tests show and hide. */
function makeClient(options: ClientOptions = {}) {
  return clients.make({ visibilityTarget: doc, ...options });
}

/** A client holding user 42's notifications and feed and trending on /ws/, all subscribed. */
function subscribedClient(options: ClientOptions = {}) {
  const client = makeClient(options);
  client.subscribeToNotifications("42", () => {});
  client.subscribeToFeed("42", () => {});
  client.subscribeToTrending(() => {});
  const socket = FakeWebSocket.last();
  socket.serverWelcome();
  socket.serverSubscribeAll();
  return { client, socket };
}

beforeEach(() => {
  doc = new FakeDocument();
});

afterEach(() => {
  cleanup();
});

describe("never giving up", () => {
  it("keeps retrying by default, the backoff capped at 48 s", () => {
    const client = makeClient();
    client.subscribeToTrending(() => {});
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      FakeWebSocket.last().fail();
      const change = clients.lastChangeOf("trending")!;
      expect(change.state).toBe("reconnecting");
      delays.push(change.delayMs!);
      vi.advanceTimersByTime(change.delayMs!);
    }
    expect(delays).toEqual([3000, 6000, 12000, 24000, 48000, 48000, 48000, 48000, 48000, 48000, 48000, 48000]);
    expect(FakeWebSocket.instances).toHaveLength(13);
    FakeWebSocket.last().serverWelcome();
    FakeWebSocket.last().serverSubscribeAll();
    expect(client.getState("trending")).toBe("open");
  });

  it("keeps retrying a single-stream socket by default too", () => {
    const client = makeClient({ multiplex: false });
    client.subscribeToTrending(() => {});
    for (let i = 0; i < 10; i++) {
      FakeWebSocket.last().fail();
      vi.advanceTimersByTime(48_000);
    }
    expect(FakeWebSocket.instances).toHaveLength(11);
    expect(client.getState("trending")).toBe("connecting");
  });

  it("retries a stream refused under a limit for as long as it is refused", () => {
    // No heartbeat: this fake server answers no ping.
    const client = makeClient({ heartbeatIntervalMs: 0 });
    client.subscribeToNotifications("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    for (let i = 0; i < 8; i++) {
      socket.serverSend({ ...envelope("subscribe_error", { code: 4429, message: "too many connections" }), stream: "notifications/42" });
      vi.advanceTimersByTime(48_000);
    }
    expect(socket.subscribes()).toHaveLength(9);
    expect(client.getState("notifications-42")).toBe("connecting");
  });
});

describe("a server that restarts", () => {
  it("reconnects after after_ms plus jitter, not before it, and resumes every stream", () => {
    // The jitter's largest draw: at most 0.2 x the 3 s base after after_ms.
    const { client, socket } = subscribedClient({ jitter: 0.2, random: () => 0.999 });
    socket.serverStream("notifications/42", "notification", { notification_id: "17" });
    socket.serverStream("feed/42", "feed_update", { tweets: [{ tweet_id: "90" }] });
    socket.serverSend(envelope("reconnect", { after_ms: 5000 }));
    socket.serverClose(1012, "service restart");
    expect(clients.lastChangeOf("trending")).toMatchObject({ state: "reconnecting", code: 1012, restarting: true });

    vi.advanceTimersByTime(4999);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(600);
    expect(FakeWebSocket.instances).toHaveLength(2);

    const second = FakeWebSocket.last();
    second.serverWelcome();
    expect(second.sentOfType("subscribe")).toEqual([
      { type: "subscribe", stream: "notifications/42", since: "17" },
      { type: "subscribe", stream: "feed/42", since: "90" },
      { type: "subscribe", stream: "trending" },
    ]);
    second.serverSubscribeAll();
    expect(client.getStates().every((s) => s.state === "open" && !s.restarting)).toBe(true);
  });

  it("waits out after_ms on a single-stream socket too", () => {
    const client = makeClient({ multiplex: false });
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverSend(envelope("reconnect", { after_ms: 8000 }));
    FakeWebSocket.last().serverClose(1012);
    vi.advanceTimersByTime(7999);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(client.getState("trending")).toBe("connecting");
  });

  it("treats 1012 and 1013 closes as a restart, and says so until the streams are back", () => {
    for (const code of [1012, 1013]) {
      FakeWebSocket.reset();
      clients.changes = [];
      const { client, socket } = subscribedClient();
      socket.serverClose(code);
      expect(summarize(client.getStates()).status).toBe("restarting");
      vi.advanceTimersByTime(3000);
      // The next attempt fails as well: still the restart, not a plain reconnect.
      FakeWebSocket.last().fail();
      expect(summarize(client.getStates()).status).toBe("restarting");
      vi.advanceTimersByTime(6000);
      FakeWebSocket.last().serverWelcome();
      FakeWebSocket.last().serverSubscribeAll();
      expect(summarize(client.getStates()).status).toBe("live");
      client.unsubscribeAll();
    }
  });

  it("does not cut the server's delay short on online or a tab shown again", () => {
    const { socket } = subscribedClient();
    socket.serverSend(envelope("reconnect", { after_ms: 20_000 }));
    socket.serverClose(1012);
    clients.win.dispatch("online");
    doc.show("hidden");
    doc.show("visible");
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(20_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});

describe("the browser's network and visibility", () => {
  it("reports offline at once on the offline event, dropping the socket that still looks open", () => {
    const { client, socket } = subscribedClient();
    clients.win.dispatch("offline");
    expect(socket.closedWith).toEqual({ code: 4000, reason: "offline" });
    expect(client.getStates().map((s) => [s.state, s.offline])).toEqual(Array(3).fill(["reconnecting", true]));
    expect(summarize(client.getStates()).status).toBe("offline");
    // Frames of the dropped socket change nothing.
    socket.serverSubscribed("trending");
    expect(client.getState("trending")).toBe("reconnecting");

    // Attempts go on at the backoff's pace, and stay offline while they fail.
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail();
    expect(summarize(client.getStates()).status).toBe("offline");
  });

  it("retries at once on online, with the streams resumed", () => {
    const { client, socket } = subscribedClient();
    socket.serverStream("notifications/42", "notification", { notification_id: "5" });
    clients.win.dispatch("offline");
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail(); // now waiting 6 s
    clients.win.dispatch("online");
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(summarize(client.getStates()).status).toBe("connecting");
    const back = FakeWebSocket.last();
    back.serverWelcome();
    expect(back.sentOfType("subscribe")[0]).toEqual({ type: "subscribe", stream: "notifications/42", since: "5" });
    back.serverSubscribeAll();
    expect(summarize(client.getStates()).status).toBe("live");
  });

  it("drops every single-stream socket on offline", () => {
    const client = makeClient({ multiplex: false });
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("7", () => {});
    for (const socket of FakeWebSocket.instances) socket.serverOpen();
    clients.win.dispatch("offline");
    expect(FakeWebSocket.instances.map((s) => s.closedWith?.reason)).toEqual(["offline", "offline"]);
    expect(client.getStates().every((s) => s.offline && s.state === "reconnecting")).toBe(true);
  });

  it("retries at once when a hidden tab becomes visible, and not while it stays hidden", () => {
    const client = makeClient();
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().fail();
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail(); // now waiting 6 s
    doc.show("hidden");
    expect(FakeWebSocket.instances).toHaveLength(2);
    doc.show("visible");
    expect(FakeWebSocket.instances).toHaveLength(3);
    expect(client.getState("trending")).toBe("connecting");
  });

  it("leaves an open connection alone when the tab is shown again", () => {
    subscribedClient();
    doc.show("hidden");
    doc.show("visible");
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("stops listening once no stream is held", () => {
    const { client } = subscribedClient();
    const { win } = clients;
    expect([win.count("online"), win.count("offline"), doc.count("visibilitychange")]).toEqual([1, 1, 1]);
    client.unsubscribeAll();
    expect([win.count("online"), win.count("offline"), doc.count("visibilitychange")]).toEqual([0, 0, 0]);
  });
});

describe("the top bar", () => {
  it("says what happened, restarting then offline, and goes back to Live without a reload", () => {
    const { client, socket } = subscribedClient();
    const wrapper = ({ children }: { children?: ReactNode }) => (
      <RealtimeProvider client={client}>{children}</RealtimeProvider>
    );
    const view = render(<ConnectionBadge />, { wrapper });
    const badge = view.getByTestId("connection-status");
    expect(badge.textContent).toContain("Live");

    act(() => {
      socket.serverSend(envelope("reconnect", { after_ms: 1000 }));
      socket.serverClose(1012);
    });
    expect(badge.dataset.state).toBe("restarting");
    expect(badge.textContent).toContain("Server restarting, reconnecting…");

    act(() => clients.win.dispatch("offline"));
    expect(badge.dataset.state).toBe("offline");
    expect(badge.textContent).toContain("Offline");
    expect(badge.textContent).not.toContain("Live");

    act(() => {
      clients.win.dispatch("online");
      vi.advanceTimersByTime(1000);
      FakeWebSocket.last().serverWelcome();
      FakeWebSocket.last().serverSubscribeAll();
    });
    expect(badge.dataset.state).toBe("live");
    expect(badge.textContent).toContain("Live");
  });
});
