import { describe, expect, it, vi } from "vitest";

import type { ClientOptions, ServerError } from "../lib/websocket-client";
import { recordingClients } from "./clients";
import { envelope, FakeWebSocket, streamEnvelope } from "./fake-websocket";

const clients = recordingClients();

/** A client holding user 42's notifications and feed, trending and tweet 7's counters, all subscribed. */
function subscribedClient(options: ClientOptions = {}) {
  const client = clients.make(options);
  const seen: Record<string, unknown[]> = { notifications: [], feed: [], trending: [], engagement: [] };
  client.subscribeToNotifications("42", (m) => seen.notifications.push(m));
  client.subscribeToFeed("42", (m) => seen.feed.push(m));
  client.subscribeToTrending((m) => seen.trending.push(m));
  client.subscribeToEngagement("7", (m) => seen.engagement.push(m));
  const socket = FakeWebSocket.last();
  socket.serverWelcome();
  socket.serverSubscribeAll();
  return { client, socket, seen };
}

describe("one connection", () => {
  it("carries every stream on one socket at /ws/, subscribing to each once welcomed", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    client.subscribeToFeed("42", () => {});
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("7", () => {});
    client.subscribeToTyping("7", () => {});
    expect(FakeWebSocket.instances.map((s) => s.url)).toEqual(["ws://example.test:8000/ws/"]);
    const socket = FakeWebSocket.last();
    socket.serverAccept();
    expect(socket.sent).toEqual([]);
    socket.serverSend(envelope("welcome", { user_id: "42", max_subscriptions: 100 }));
    expect(socket.sentJson()).toEqual([
      { type: "subscribe", stream: "notifications/42" },
      { type: "subscribe", stream: "feed/42" },
      { type: "subscribe", stream: "trending" },
      { type: "subscribe", stream: "engagement/7" },
    ]);
    expect(client.getWelcome()).toEqual({ user_id: "42", max_subscriptions: 100 });
    expect(client.getConnectionState()).toBe("open");
  });

  it("opens a stream at its subscribed, not at the welcome", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    client.subscribeToFeed("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    expect(client.getState("trending")).toBe("connecting");
    socket.serverSubscribed("trending");
    expect(client.getState("trending")).toBe("open");
    expect(client.getState("feed-42")).toBe("connecting");
  });

  it("subscribes at once to a stream added while the connection is up", () => {
    const { client, socket } = subscribedClient();
    client.subscribeToEngagement("8", () => {});
    expect(socket.subscribes().at(-1)).toBe("engagement/8");
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("sends the token, or a fresh ticket per connection attempt, on /ws/", async () => {
    clients.make({ token: "abc" }).subscribeToTrending(() => {});
    expect(FakeWebSocket.last().url).toBe("ws://example.test:8000/ws/?token=abc");

    FakeWebSocket.reset();
    let n = 0;
    const getTicket = vi.fn(async () => `T${++n}`);
    const client = clients.make({ getTicket, token: "long-lived" });
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("7", () => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances.map((s) => s.url)).toEqual(["ws://example.test:8000/ws/?ticket=T1"]);
    FakeWebSocket.last().serverWelcome();
    FakeWebSocket.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(3000);
    expect(FakeWebSocket.last().url).toBe("ws://example.test:8000/ws/?ticket=T2");
    expect(getTicket).toHaveBeenCalledTimes(2);
  });

  it("closes the socket when the last stream ends, and opens a new one for the next", () => {
    const { client, socket } = subscribedClient();
    client.unsubscribeAll();
    expect(socket.closedWith).toEqual({ code: 1000, reason: "unsubscribed" });
    expect(client.getConnectionState()).toBe("idle");
    expect(clients.win.count("online")).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    client.subscribeToTrending(() => {});
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});

describe("routing", () => {
  it("gives each message to the handlers of its stream only, and ignores streams not held", () => {
    const { client, socket, seen } = subscribedClient();
    const typing: unknown[] = [];
    client.subscribeToTyping("7", (m) => typing.push(m));
    const notification = streamEnvelope("notifications/42", "notification", { notification_id: "3" });
    socket.serverSend(notification);
    socket.serverStream("engagement/7", "engagement_update", { tweet_id: "7", engagement: { likes: 1 } });
    socket.serverStream("engagement/7", "typing", { tweet_id: "7", user_id: "2", user_name: "Bob", is_typing: true });
    socket.serverStream("engagement/8", "engagement_update", { tweet_id: "8", engagement: { likes: 9 } });
    socket.serverSend(envelope("trending", { topics: [], count: 0 })); // names no stream
    expect(seen.notifications).toEqual([notification]);
    expect(seen.feed).toEqual([]);
    expect(seen.trending).toEqual([]);
    expect(seen.engagement).toHaveLength(1);
    expect(typing).toHaveLength(1);
  });

  it("reports error frames with their stream's key, or null for the connection", () => {
    const { client, socket, seen } = subscribedClient();
    const errors: ServerError[] = [];
    client.onServerError((error) => errors.push(error));
    socket.serverStream("engagement/7", "error", { code: "rate_limited", message: "slow down" });
    socket.serverSend(envelope("error", { code: "invalid_json", message: "?" }));
    expect(errors).toEqual([
      { key: "engagement-7", code: "rate_limited", message: "slow down" },
      { key: null, code: "invalid_json", message: "?" },
    ]);
    expect(seen.engagement).toEqual([]);
  });

  it("sends typing on the connection with the tweet's stream, only once subscribed", () => {
    const client = clients.make();
    client.subscribeToEngagement("7", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    expect(client.sendTyping("7", true)).toBe(false);
    socket.serverSubscribed("engagement/7");
    expect(client.sendTyping("7", true)).toBe(true);
    expect(client.sendTyping("8", true)).toBe(false);
    expect(socket.sent.at(-1)).toBe('{"type":"typing","stream":"engagement/7","is_typing":true}');
  });
});

describe("unsubscribe", () => {
  it("sends unsubscribe when the last handler of a stream leaves, and keeps the connection", () => {
    const { client, socket } = subscribedClient();
    const a: unknown[] = [];
    const offA = client.subscribeToEngagement("8", (m) => a.push(m));
    const offB = client.subscribeToEngagement("8", () => {});
    socket.serverSubscribed("engagement/8");
    offA();
    expect(socket.sentOfType("unsubscribe")).toEqual([]);
    offB();
    expect(socket.sentOfType("unsubscribe")).toEqual([{ type: "unsubscribe", stream: "engagement/8" }]);
    expect(clients.lastChangeOf("engagement-8")).toMatchObject({ state: "closed", closedBy: "client" });
    expect(socket.closedWith).toBeNull();
    // What was on its way before the server's answer goes nowhere.
    socket.serverStream("engagement/8", "engagement_update", { tweet_id: "8", engagement: { likes: 1 } });
    expect(a).toEqual([]);
    client.unsubscribe("notifications-42");
    expect(socket.sentOfType("unsubscribe").at(-1)).toEqual({ type: "unsubscribe", stream: "notifications/42" });
  });

  it("does not take the answer to an unsubscribe for the server ending a subscription made again", () => {
    const { client, socket } = subscribedClient();
    const off = client.subscribeToEngagement("8", () => {});
    socket.serverSubscribed("engagement/8");
    off();
    client.subscribeToEngagement("8", () => {});
    socket.serverStream("engagement/8", "unsubscribed", {});
    socket.serverSubscribed("engagement/8");
    vi.advanceTimersByTime(10_000);
    expect(socket.subscribes().filter((s) => s === "engagement/8")).toHaveLength(2);
    expect(client.getState("engagement-8")).toBe("open");
  });
});

describe("refusals", () => {
  it.each([4401, 4403, 4404])("closes only the stream refused with %i, for good", (code) => {
    const { client, socket } = subscribedClient();
    client.subscribeToNotifications("43", () => {});
    socket.serverStream("notifications/43", "subscribe_error", { code, message: "no" });
    expect(clients.lastChangeOf("notifications-43")).toMatchObject({ state: "closed", closedBy: "server", code });
    expect(client.getState("notifications-42")).toBe("open");
    expect(client.getState("trending")).toBe("open");
    vi.advanceTimersByTime(600_000);
    client.reconnectNow();
    socket.serverClose(1006);
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().serverWelcome();
    expect(FakeWebSocket.last().subscribes()).toEqual(["notifications/42", "feed/42", "trending", "engagement/7"]);
  });

  it("retries a stream refused for load (4429) with backoff, the others untouched", () => {
    const { client, socket } = subscribedClient();
    client.subscribeToEngagement("8", () => {});
    const count = () => socket.subscribes().filter((s) => s === "engagement/8").length;
    socket.serverStream("engagement/8", "subscribe_error", { code: 4429, message: "at most 100 subscriptions" });
    expect(clients.lastChangeOf("engagement-8")).toMatchObject({ state: "reconnecting", delayMs: 3000, code: 4429 });
    vi.advanceTimersByTime(2999);
    expect(count()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(count()).toBe(2);
    socket.serverStream("engagement/8", "subscribe_error", { code: 4429, message: "subscribing too fast" });
    expect(clients.lastChangeOf("engagement-8")).toMatchObject({ state: "reconnecting", delayMs: 6000 });
    vi.advanceTimersByTime(6000);
    socket.serverSubscribed("engagement/8");
    expect(client.getState("engagement-8")).toBe("open");
    expect(clients.lastChangeOf("trending")?.state).toBe("open");
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("resubscribes with since after a short delay when the server ends a subscription itself", () => {
    const { client, socket } = subscribedClient();
    socket.serverStream("notifications/42", "notification", { notification_id: "9" });
    socket.serverStream("notifications/42", "unsubscribed", { code: 4429, message: "resubscribe with since" });
    expect(clients.lastChangeOf("notifications-42")).toMatchObject({ state: "reconnecting", code: 4429, delayMs: 1000 });
    vi.advanceTimersByTime(999);
    expect(socket.subscribes().filter((s) => s === "notifications/42")).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(socket.sentOfType("subscribe").at(-1)).toEqual({ type: "subscribe", stream: "notifications/42", since: "9" });
    socket.serverSubscribed("notifications/42");
    expect(client.getState("notifications-42")).toBe("open");
  });
});

describe("reconnection", () => {
  it("resubscribes every stream after a reconnect, each resuming from its own newest id", () => {
    const { client, socket } = subscribedClient();
    socket.serverStream("notifications/42", "notification", { notification_id: "5" });
    socket.serverStream("notifications/42", "notification", { notification_id: "12" });
    socket.serverStream("feed/42", "feed_update", { tweets: [{ tweet_id: "30" }, { tweet_id: "8" }], count: 2 });
    // Ids seen on one stream are no resume point of another.
    socket.serverStream("engagement/7", "notification", { notification_id: "99" });
    socket.serverClose(1006);
    for (const key of ["notifications-42", "feed-42", "trending", "engagement-7"]) {
      expect(clients.lastChangeOf(key)).toMatchObject({ state: "reconnecting", delayMs: 3000, attempt: 1 });
    }
    vi.advanceTimersByTime(3000);
    const second = FakeWebSocket.last();
    expect(second).not.toBe(socket);
    second.serverWelcome();
    expect(second.sentJson()).toEqual([
      { type: "subscribe", stream: "notifications/42", since: "12" },
      { type: "subscribe", stream: "feed/42", since: "30" },
      { type: "subscribe", stream: "trending" },
      { type: "subscribe", stream: "engagement/7" },
    ]);
    // Back, but not live until subscribed: still a reconnect in progress.
    expect(clients.lastChangeOf("trending")).toMatchObject({ state: "connecting", attempt: 1 });
    second.serverSubscribeAll();
    expect(client.getStates().map((s) => s.state)).toEqual(["open", "open", "open", "open"]);
  });

  it("backs off 3, 6, 12, 24 and 48 seconds, then gives up every stream at maxReconnectAttempts; online retries at once", () => {
    const client = clients.make({ maxReconnectAttempts: 5 });
    client.subscribeToTrending(() => {});
    client.subscribeToFeed("42", () => {});
    for (const delay of [3000, 6000, 12000, 24000, 48000]) {
      FakeWebSocket.last().fail();
      expect(clients.lastChangeOf("feed-42")).toMatchObject({ state: "reconnecting", delayMs: delay });
      vi.advanceTimersByTime(delay);
    }
    FakeWebSocket.last().fail();
    expect(client.getStates().map((s) => [s.state, s.closedBy])).toEqual([
      ["closed", "gave-up"],
      ["closed", "gave-up"],
    ]);
    expect(FakeWebSocket.instances).toHaveLength(6);
    clients.win.dispatch("online");
    expect(FakeWebSocket.instances).toHaveLength(7);
  });

  it("closes every stream when the connection itself is refused (credentials ended), for good", () => {
    const { client, socket } = subscribedClient();
    socket.serverClose(4401, "signed out");
    expect(client.getStates().map((s) => [s.state, s.closedBy, s.code])).toEqual(
      Array(4).fill(["closed", "server", 4401]),
    );
    vi.advanceTimersByTime(600_000);
    clients.win.dispatch("online");
    client.reconnectNow();
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("reconnects after a restarting server's after_ms", () => {
    const { socket } = subscribedClient();
    socket.serverSend(envelope("reconnect", { after_ms: 1500 }));
    socket.serverClose(1012, "service restart");
    expect(clients.lastChangeOf("trending")).toMatchObject({ state: "reconnecting", delayMs: 1500, code: 1012 });
    vi.advanceTimersByTime(1500);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it("pings every 30 s and replaces a socket that stops answering, or never says welcome", () => {
    const { client, socket } = subscribedClient({ pongTimeoutMs: 10_000 });
    vi.advanceTimersByTime(30_000);
    expect(socket.sentOfType("ping")).toHaveLength(1);
    socket.serverSend(envelope("pong", {}));
    vi.advanceTimersByTime(30_000 + 10_000);
    expect(socket.closedWith).toEqual({ code: 4000, reason: "no pong" });
    expect(clients.lastChangeOf("trending")).toMatchObject({ state: "reconnecting", code: 4000 });
    expect(client.getWelcome()).toBeNull();
    vi.advanceTimersByTime(3000);
    const second = FakeWebSocket.last();
    second.serverAccept();
    vi.advanceTimersByTime(10_000);
    expect(second.closedWith).toEqual({ code: 4000, reason: "no pong" });
  });
});
