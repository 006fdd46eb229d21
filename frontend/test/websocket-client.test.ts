import { describe, expect, it, vi } from "vitest";

import { backoffDelay, isNewerId, RecommendationEngineWebSocket, toWebSocketBase } from "../lib/websocket-client";
import { recordingClients } from "./clients";
import { envelope, FakeWebSocket } from "./fake-websocket";

/** These tests pin the single-stream mode: one socket per stream. */
const clients = recordingClients({ multiplex: false });

/** Fail the current attempt of the only stream, and return the delay scheduled. */
function failAndGetDelay(): number | undefined {
  FakeWebSocket.last().fail();
  const last = clients.lastChange();
  return last?.state === "reconnecting" ? last.delayMs : undefined;
}

describe("URLs and authentication", () => {
  it("opens one socket per stream on the single-stream endpoints with multiplex: false", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    client.subscribeToFeed("42", () => {});
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("7", () => {});
    expect(FakeWebSocket.instances.map((s) => s.url)).toEqual([
      "ws://example.test:8000/ws/notifications/42",
      "ws://example.test:8000/ws/feed/42",
      "ws://example.test:8000/ws/trending",
      "ws://example.test:8000/ws/engagement/7",
    ]);
  });

  it("uses wss for https and keeps a path prefix", () => {
    expect(toWebSocketBase("https://example.test/app/")).toBe("wss://example.test/app");
    expect(toWebSocketBase("ws://example.test")).toBe("ws://example.test");
    expect(() => toWebSocketBase("example.test")).toThrow();
  });

  it("sends the token option as ?token=", () => {
    const client = clients.make({ token: "abc 123" });
    client.subscribeToTrending(() => {});
    expect(FakeWebSocket.last().query.get("token")).toBe("abc 123");
  });

  it("sends no token by default (the browser sends its session cookie)", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    expect(FakeWebSocket.last().url).not.toContain("?");
  });
});

describe("reconnection backoff", () => {
  it("retries after 3, 6, 12, 24 and 48 seconds, then stops when maxReconnectAttempts is 5", () => {
    const client = clients.make({ maxReconnectAttempts: 5 });
    client.subscribeToTrending(() => {});
    const expected = [3000, 6000, 12000, 24000, 48000];
    for (const delay of expected) {
      const before = FakeWebSocket.instances.length;
      expect(failAndGetDelay()).toBe(delay);
      vi.advanceTimersByTime(delay - 1);
      expect(FakeWebSocket.instances.length).toBe(before);
      vi.advanceTimersByTime(1);
      expect(FakeWebSocket.instances.length).toBe(before + 1);
    }
    FakeWebSocket.last().fail();
    expect(client.getState("trending")).toBe("closed");
    expect(clients.lastChange()).toMatchObject({ state: "closed", closedBy: "gave-up" });
    vi.advanceTimersByTime(10 * 60 * 1000);
    expect(FakeWebSocket.instances.length).toBe(6);
  });

  it("takes base, factor and attempts from the options", () => {
    const client = clients.make({ reconnectBaseDelayMs: 1000, reconnectFactor: 3, maxReconnectAttempts: 2 });
    client.subscribeToTrending(() => {});
    expect(failAndGetDelay()).toBe(1000);
    vi.advanceTimersByTime(1000);
    expect(failAndGetDelay()).toBe(3000);
    vi.advanceTimersByTime(3000);
    expect(failAndGetDelay()).toBeUndefined();
    expect(client.getState("trending")).toBe("closed");
    expect(FakeWebSocket.instances.length).toBe(3);
  });

  it("never reconnects with maxReconnectAttempts 0", () => {
    const client = clients.make({ maxReconnectAttempts: 0 });
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverClose(1006);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances.length).toBe(1);
    expect(client.getState("trending")).toBe("closed");
  });

  it("resets the attempt count after a successful connection", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    expect(failAndGetDelay()).toBe(3000);
    vi.advanceTimersByTime(3000);
    expect(failAndGetDelay()).toBe(6000);
    vi.advanceTimersByTime(6000);
    FakeWebSocket.last().serverOpen();
    expect(client.getState("trending")).toBe("open");
    FakeWebSocket.last().serverClose(1001, "going away");
    expect(clients.lastChange()).toMatchObject({ state: "reconnecting", delayMs: 3000, code: 1001 });
  });

  it("reports the reconnecting state with its delay and the time of the retry", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    const now = Date.now();
    FakeWebSocket.last().fail();
    const change = clients.lastChange()!;
    expect(change).toMatchObject({ key: "trending", state: "reconnecting", attempt: 1, delayMs: 3000 });
    expect(change.retryAt).toBe(now + 3000);
  });
});

describe("jitter", () => {
  function delaysWith(random: () => number, jitter?: number): number[] {
    clients.changes = [];
    FakeWebSocket.reset();
    const client = clients.make({ random, jitter });
    client.subscribeToTrending(() => {});
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const delay = failAndGetDelay()!;
      delays.push(delay);
      vi.advanceTimersByTime(delay);
    }
    client.unsubscribeAll();
    return delays;
  }

  it("spreads each delay by up to 20% either way by default", () => {
    const nominal = [3000, 6000, 12000, 24000, 48000];
    const options = { WebSocket: FakeWebSocket, onlineTarget: clients.win, multiplex: false }; // no jitter override
    for (let run = 0; run < 50; run++) {
      FakeWebSocket.reset();
      clients.changes = [];
      const client = clients.record(new RecommendationEngineWebSocket("http://example.test", options));
      client.subscribeToTrending(() => {});
      nominal.forEach((base) => {
        const delay = failAndGetDelay()!;
        expect(delay).toBeGreaterThanOrEqual(base * 0.8);
        expect(delay).toBeLessThanOrEqual(base * 1.2);
        vi.advanceTimersByTime(delay);
      });
      client.unsubscribeAll();
    }
  });

  it("reaches both bounds and nothing beyond", () => {
    expect(delaysWith(() => 0, 0.2)).toEqual([2400, 4800, 9600, 19200, 38400]);
    const high = delaysWith(() => 0.999999, 0.2);
    expect(high).toEqual([3600, 7200, 14400, 28800, 57600]);
  });

  it("is exact with jitter 0", () => {
    expect(delaysWith(() => 0.9, 0)).toEqual([3000, 6000, 12000, 24000, 48000]);
  });

  it("backoffDelay is base * factor^attempt", () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 3000, 2))).toEqual([3000, 6000, 12000, 24000, 48000]);
  });
});

describe("server back", () => {
  it("retries the other waiting streams at once when one gets back through", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("7", () => {});
    client.subscribeToEngagement("8", () => {});
    const [trending, seven, eight] = FakeWebSocket.instances;
    [trending, seven, eight].forEach((s) => s.serverOpen());
    trending.serverClose(1006);
    seven.serverClose(1006);
    eight.serverClose(4429, "too many connections");
    vi.advanceTimersByTime(3000); // all three retry once; trending's gets through
    expect(FakeWebSocket.instances).toHaveLength(6);
    FakeWebSocket.for("/ws/engagement/7")[1].fail(); // now waiting 6 s
    FakeWebSocket.for("/ws/engagement/8")[1].serverClose(4429); // waiting 6 s, for load
    FakeWebSocket.for("/ws/trending")[1].serverOpen();
    expect(FakeWebSocket.for("/ws/engagement/7")).toHaveLength(3);
    expect(FakeWebSocket.for("/ws/engagement/8")).toHaveLength(2);
  });

  it("does not kick anyone on a first connection", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().fail();
    client.subscribeToEngagement("7", () => {});
    FakeWebSocket.last().serverOpen();
    expect(FakeWebSocket.for("/ws/trending")).toHaveLength(1);
  });
});

describe("close codes", () => {
  it.each([4401, 4403, 4404])("does not reconnect after %i", (code) => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverClose(code, "no");
    expect(clients.lastChange()).toMatchObject({ state: "closed", closedBy: "server", code });
    vi.advanceTimersByTime(10 * 60 * 1000);
    clients.win.dispatch("online");
    client.reconnectNow();
    expect(FakeWebSocket.instances.length).toBe(1);
  });

  it.each([1000, 1001, 1006, 1009, 1011, 4429])("reconnects after %i", (code) => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverClose(code);
    expect(client.getState("trending")).toBe("reconnecting");
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.instances.length).toBe(2);
  });
});

describe("heartbeat", () => {
  it("pings every 30 s and keeps a socket that answers", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    vi.advanceTimersByTime(29_999);
    expect(socket.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(socket.sentJson()).toEqual([{ type: "ping" }]);
    socket.serverSend(envelope("pong", {}));
    vi.advanceTimersByTime(30_000);
    expect(socket.sentJson()).toEqual([{ type: "ping" }, { type: "ping" }]);
    socket.serverSend({ type: "pong", timestamp: "2026-01-25T10:30:00Z" });
    vi.advanceTimersByTime(25_000);
    expect(socket.closedWith).toBeNull();
    expect(client.getState("trending")).toBe("open");
    expect(FakeWebSocket.instances.length).toBe(1);
  });

  it("declares a socket dead when the pong does not come, and reconnects", () => {
    const client = clients.make({ pongTimeoutMs: 10_000 });
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    vi.advanceTimersByTime(30_000); // ping
    vi.advanceTimersByTime(9_999);
    expect(socket.closedWith).toBeNull();
    vi.advanceTimersByTime(1);
    expect(socket.closedWith).toEqual({ code: 4000, reason: "no pong" });
    expect(clients.lastChange()).toMatchObject({ state: "reconnecting", delayMs: 3000, code: 4000 });
    // The dead socket's late close event changes nothing.
    socket.serverClose(1006);
    expect(clients.lastChange()!.state).toBe("reconnecting");
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.instances.length).toBe(2);
    FakeWebSocket.last().serverOpen();
    expect(client.getState("trending")).toBe("open");
  });

  it("counts any message as a sign of life", () => {
    const client = clients.make();
    const seen: unknown[] = [];
    client.subscribeToTrending((m) => seen.push(m));
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    vi.advanceTimersByTime(30_000);
    socket.serverSend(envelope("trending", { topics: [], count: 0 }));
    vi.advanceTimersByTime(15_000);
    expect(socket.closedWith).toBeNull();
    expect(seen).toHaveLength(1);
  });

  it("uses the configured interval, and none with 0", () => {
    const client = clients.make({ heartbeatIntervalMs: 5000 });
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverOpen();
    vi.advanceTimersByTime(5000);
    expect(FakeWebSocket.last().sent).toHaveLength(1);

    const quiet = clients.make({ heartbeatIntervalMs: 0 });
    quiet.subscribeToEngagement("1", () => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    vi.advanceTimersByTime(10 * 60 * 1000);
    expect(socket.sent).toEqual([]);
  });

  it("stops pinging once the socket closes", () => {
    const client = clients.make({ maxReconnectAttempts: 0 });
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    socket.serverClose(1006);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("resume", () => {
  it("sends the newest notification id seen as ?since= on reconnect", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    const first = FakeWebSocket.last();
    expect(first.query.get("since")).toBeNull();
    first.serverOpen();
    for (const id of ["5", "12", "9"]) {
      first.serverSend(envelope("notification", { notification_id: id, type: "LIKE" }));
    }
    first.serverClose(1006);
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.last().query.get("since")).toBe("12");
    expect(client.getResumeId("notifications-42")).toBe("12");
  });

  it("sends the newest feed tweet id seen as ?since= on reconnect", () => {
    const client = clients.make();
    client.subscribeToFeed("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    socket.serverSend(
      envelope("feed_update", { tweets: [{ tweet_id: "7" }, { tweet_id: "30" }, { tweet_id: "8" }], count: 3 }),
    );
    socket.serverClose(1001);
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.last().url).toBe("ws://example.test:8000/ws/feed/42?since=30");
  });

  it("starts from a given since and never moves backward", () => {
    const client = clients.make({ token: "t" });
    client.subscribeToNotifications("42", () => {}, { since: "100" });
    const socket = FakeWebSocket.last();
    expect(socket.query.get("since")).toBe("100");
    expect(socket.query.get("token")).toBe("t");
    socket.serverOpen();
    socket.serverSend(envelope("notification", { notification_id: "99" }));
    client.setResumeId("notifications-42", "50");
    socket.serverClose(1006);
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.last().query.get("since")).toBe("100");
  });

  it("remembers the resume id when the stream is subscribed again", () => {
    const client = clients.make();
    const off = client.subscribeToNotifications("42", () => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverSend(envelope("notification", { notification_id: "77" }));
    off();
    client.subscribeToNotifications("42", () => {});
    expect(FakeWebSocket.last().query.get("since")).toBe("77");
  });

  it("sends no since on streams that do not resume", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("3", () => {});
    for (const socket of FakeWebSocket.instances) {
      socket.serverOpen();
      socket.serverSend(envelope("notification", { notification_id: "5" }));
      socket.serverClose(1006);
    }
    vi.advanceTimersByTime(3000);
    expect(FakeWebSocket.instances.slice(2).map((s) => s.query.get("since"))).toEqual([null, null]);
  });

  it("compares ids as numbers", () => {
    expect(isNewerId("10", "9")).toBe(true);
    expect(isNewerId("9", "10")).toBe(false);
    expect(isNewerId("12345678901234567890", "12345678901234567889")).toBe(true);
    expect(isNewerId("5", "5")).toBe(false);
    expect(isNewerId("5", undefined)).toBe(true);
  });
});

describe("subscriptions", () => {
  it("shares one socket between handlers of a stream", () => {
    const client = clients.make();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = client.subscribeToEngagement("7", (m) => a.push(m));
    client.subscribeToEngagement("7", (m) => b.push(m));
    expect(FakeWebSocket.instances).toHaveLength(1);
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    socket.serverSend(envelope("engagement_update", { tweet_id: "7", engagement: { likes: 1 } }));
    expect([a.length, b.length]).toEqual([1, 1]);
    offA();
    expect(socket.closedWith).toBeNull();
    socket.serverSend(envelope("engagement_update", { tweet_id: "7", engagement: { likes: 2 } }));
    expect([a.length, b.length]).toEqual([1, 2]);
  });

  it("closes the socket when the last handler leaves, without reconnecting", () => {
    const client = clients.make();
    const off = client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    off();
    off(); // twice is harmless
    expect(socket.closedWith).toEqual({ code: 1000, reason: "unsubscribed" });
    expect(client.keys()).toEqual([]);
    socket.serverClose(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(clients.lastChange()).toMatchObject({ key: "trending", state: "closed", closedBy: "client" });
  });

  it("unsubscribe('notifications-<id>') closes that stream and drops its handlers", () => {
    const client = clients.make();
    const seen: unknown[] = [];
    client.subscribeToNotifications("42", (m) => seen.push(m));
    client.subscribeToNotifications("42", (m) => seen.push(m));
    client.subscribeToTrending(() => {});
    const [notifications, trending] = FakeWebSocket.instances;
    notifications.serverOpen();
    trending.serverOpen();
    client.unsubscribe("notifications-42");
    expect(notifications.closedWith?.code).toBe(1000);
    expect(trending.closedWith).toBeNull();
    notifications.serverSend(envelope("notification", { notification_id: "1" }));
    expect(seen).toEqual([]);
    expect(client.keys()).toEqual(["trending"]);
    client.unsubscribe("notifications-42"); // unknown now: harmless
  });

  it("unsubscribeAll closes every stream and cancels pending retries", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    client.subscribeToFeed("1", () => {});
    FakeWebSocket.instances[0].serverOpen();
    FakeWebSocket.instances[1].fail(); // waiting 3 s to retry
    expect(clients.win.count("online")).toBe(1);
    client.unsubscribeAll();
    expect(FakeWebSocket.instances[0].closedWith?.code).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(client.keys()).toEqual([]);
    expect(clients.win.count("online")).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("routes messages but not pongs, gives error frames to onServerError, and survives bad frames and broken handlers", () => {
    const client = clients.make();
    const seen: string[] = [];
    const errors: unknown[] = [];
    client.onServerError((error) => errors.push(error));
    client.subscribeToTrending(() => {
      throw new Error("boom");
    });
    client.subscribeToTrending((m) => seen.push(m.type));
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    socket.serverSend("not json");
    socket.serverSend({ no: "type" });
    socket.serverSend(envelope("pong", {}));
    socket.serverSend(envelope("trending", { topics: [], count: 0 }));
    socket.serverSend(envelope("error", { code: "unknown_type", message: "?" }));
    expect(seen).toEqual(["trending"]);
    expect(errors).toEqual([{ key: "trending", code: "unknown_type", message: "?" }]);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(client.getState("trending")).toBe("open");
  });

  it("reconnects after a server's reconnect frame at its after_ms, not the backoff", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverOpen();
    socket.serverSend(envelope("reconnect", { after_ms: 700 }));
    socket.serverClose(1012, "service restart");
    expect(clients.lastChange()).toMatchObject({ state: "reconnecting", delayMs: 700, code: 1012 });
    vi.advanceTimersByTime(700);
    expect(FakeWebSocket.for("/ws/trending")).toHaveLength(2);
    expect(client.keys()).toEqual(["trending"]);
  });
});

describe("online event", () => {
  it("reconnects at once instead of waiting for the next delay", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    for (const delay of [3000, 6000, 12000]) {
      FakeWebSocket.last().fail();
      vi.advanceTimersByTime(delay);
    }
    FakeWebSocket.last().fail(); // now waiting 24 s
    expect(FakeWebSocket.instances).toHaveLength(4);
    clients.win.dispatch("online");
    expect(FakeWebSocket.instances).toHaveLength(5);
    vi.advanceTimersByTime(24_000); // the cancelled timer does not fire
    expect(FakeWebSocket.instances).toHaveLength(5);
    // A fresh count: the next failure waits 3 s again.
    expect(failAndGetDelay()).toBe(3000);
  });

  it("revives a stream that had given up", () => {
    const client = clients.make({ maxReconnectAttempts: 1 });
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().fail();
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail();
    expect(client.getState("trending")).toBe("closed");
    clients.win.dispatch("online");
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().serverOpen();
    expect(client.getState("trending")).toBe("open");
  });

  it("leaves open and connecting streams alone", () => {
    const client = clients.make();
    client.subscribeToTrending(() => {});
    client.subscribeToEngagement("1", () => {});
    FakeWebSocket.instances[0].serverOpen();
    clients.win.dispatch("online");
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});

describe("typing, states and stats", () => {
  it("sendTyping sends on the tweet's engagement socket only when it is open", () => {
    const client = clients.make();
    expect(client.sendTyping("7", true)).toBe(false);
    client.subscribeToEngagement("7", () => {});
    const socket = FakeWebSocket.last();
    expect(client.sendTyping("7", true)).toBe(false);
    socket.serverOpen();
    expect(client.sendTyping("7", true)).toBe(true);
    expect(client.sendTyping("7", false)).toBe(true);
    expect(socket.sentJson()).toEqual([
      { type: "typing", is_typing: true },
      { type: "typing", is_typing: false },
    ]);
  });

  it("emits connecting, open, reconnecting and closed", () => {
    const client = clients.make({ maxReconnectAttempts: 1 });
    const opens: string[] = [];
    client.on("open", (change) => opens.push(change.key));
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverOpen();
    FakeWebSocket.last().serverClose(1006);
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail();
    expect(clients.changes.map((c) => c.state)).toEqual(["connecting", "open", "reconnecting", "connecting", "closed"]);
    expect(opens).toEqual(["trending"]);
    expect(client.getStates()).toEqual([expect.objectContaining({ key: "trending", state: "closed" })]);
  });

  it("stops listening when the listener unsubscribes", () => {
    const client = clients.make();
    const seen: string[] = [];
    const off = client.on("state", (c) => seen.push(c.state));
    client.subscribeToTrending(() => {});
    off();
    FakeWebSocket.last().serverOpen();
    expect(seen).toEqual(["connecting"]);
  });

  it("getStats reads /ws/stats over HTTP", async () => {
    const stats = { active_users: 1, total_user_connections: 2, global_connections: 3, total_connections: 5 };
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(stats), { status: 200 }));
    const client = clients.make({ fetch: fetchMock as unknown as typeof fetch });
    await expect(client.getStats()).resolves.toEqual(stats);
    expect(fetchMock).toHaveBeenCalledWith("http://example.test:8000/ws/stats", expect.anything());
  });

  it("getStats rejects on an HTTP error", async () => {
    const fetchMock = vi.fn(async () => new Response("no", { status: 503 }));
    const client = clients.make({ fetch: fetchMock as unknown as typeof fetch });
    await expect(client.getStats()).rejects.toThrow("503");
  });
});

describe("single-use tickets", () => {
  it("fetches a fresh ticket for every connection attempt and sends it instead of the token", async () => {
    let n = 0;
    const getTicket = vi.fn(async () => `T${++n}`);
    const client = clients.make({ getTicket, token: "long-lived" });
    client.subscribeToNotifications("42", () => {});
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(client.getState("notifications-42")).toBe("connecting");
    await vi.advanceTimersByTimeAsync(0);
    const first = FakeWebSocket.last();
    expect(first.query.get("ticket")).toBe("T1");
    expect(first.query.get("token")).toBeNull();
    first.serverOpen();
    first.serverSend(envelope("notification", { notification_id: "8" }));
    first.serverClose(1006);
    await vi.advanceTimersByTimeAsync(3000);
    expect(FakeWebSocket.last().url).toBe("ws://example.test:8000/ws/notifications/42?ticket=T2&since=8");
    expect(getTicket).toHaveBeenCalledTimes(2);
  });

  it("backs off when no ticket can be had, and stops when the credentials are refused", async () => {
    const { TicketError } = await import("../lib/websocket-client");
    const getTicket = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new TypeError("network down"))
      .mockRejectedValueOnce(new TicketError(401));
    const client = clients.make({ getTicket });
    client.subscribeToTrending(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(clients.lastChange()).toMatchObject({ state: "reconnecting", delayMs: 3000 });
    await vi.advanceTimersByTimeAsync(3000);
    expect(clients.lastChange()).toMatchObject({ state: "closed", closedBy: "server", code: 4401 });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(getTicket).toHaveBeenCalledTimes(2);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it("ignores a ticket that arrives after unsubscribing", async () => {
    let release: (ticket: string) => void = () => {};
    const client = clients.make({ getTicket: () => new Promise((resolve) => (release = resolve)) });
    const off = client.subscribeToTrending(() => {});
    off();
    release("late");
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it("ticketFromApi POSTs /api/auth/ws-ticket/ with the token", async () => {
    const { ticketFromApi, TicketError } = await import("../lib/websocket-client");
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ ticket: "abc", expires_in: 30 }), { status: 201 }));
    const getTicket = ticketFromApi("http://example.test:8000/", "tok", fetchMock as unknown as typeof fetch);
    await expect(getTicket()).resolves.toBe("abc");
    expect(fetchMock).toHaveBeenCalledWith(
      "http://example.test:8000/api/auth/ws-ticket/",
      expect.objectContaining({ method: "POST", headers: expect.objectContaining({ Authorization: "Token tok" }) }),
    );
    const refused = ticketFromApi("http://example.test", "bad", (async () => new Response("{}", { status: 401 })) as unknown as typeof fetch);
    await expect(refused()).rejects.toBeInstanceOf(TicketError);
  });
});

describe("subscription", () => {
  it("is open at the server's answer to the ping sent on connect, not at the handshake", () => {
    const client = clients.make();
    client.subscribeToFeed("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverAccept();
    // Accepted, but the server may not have joined the stream's groups yet.
    expect(socket.sentJson()).toEqual([{ type: "ping" }]);
    expect(client.getState("feed-42")).toBe("connecting");
    socket.serverSend({ type: "pong", timestamp: "2026-01-25T10:30:00Z" });
    expect(client.getState("feed-42")).toBe("open");
  });

  it("takes a replay or snapshot arriving before the pong as the sign of subscription", () => {
    const client = clients.make();
    const seen: unknown[] = [];
    client.subscribeToTrending((m) => seen.push(m));
    const socket = FakeWebSocket.last();
    socket.serverAccept();
    socket.serverSend(envelope("trending", { topics: [], count: 0 }));
    expect(client.getState("trending")).toBe("open");
    expect(seen).toHaveLength(1);
  });

  it("never reports open for a socket refused right after the handshake", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverAccept();
    socket.serverClose(4403, "this stream belongs to another user");
    expect(clients.changes.map((c) => c.state)).toEqual(["connecting", "closed"]);
  });

  it("replaces a socket that was accepted but never answers", () => {
    const client = clients.make({ pongTimeoutMs: 10_000 });
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverAccept();
    vi.advanceTimersByTime(10_000);
    expect(socket.closedWith).toEqual({ code: 4000, reason: "no pong" });
    expect(clients.lastChange()).toMatchObject({ state: "reconnecting", code: 4000 });
  });
});
