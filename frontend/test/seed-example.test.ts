import { afterEach, expect, it, vi } from "vitest";

import { FakeWebSocket } from "./fake-websocket";

afterEach(() => {
  vi.unstubAllGlobals();
  FakeWebSocket.reset();
});

it("runs SEED.md's client example on one /ws/ connection", async () => {
  FakeWebSocket.reset();
  const stats = { active_users: 5, total_user_connections: 8, global_connections: 3, total_connections: 11 };
  let answerStats: (response: Response) => void = () => {};
  const fetchMock = vi.fn(() => new Promise<Response>((resolve) => (answerStats = resolve)));
  vi.stubGlobal("WebSocket", FakeWebSocket);
  vi.stubGlobal("fetch", fetchMock);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  // The example runs on import, up to its `await ws.getStats()`.
  const example = import("./seed-example");
  await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledWith("http://localhost:8000/ws/stats", expect.anything()));
  const socket = FakeWebSocket.last();
  expect(FakeWebSocket.instances.map((s) => s.url)).toEqual(["ws://localhost:8000/ws/"]);
  socket.serverWelcome("1");
  expect(socket.subscribes()).toEqual(["notifications/user_1", "trending", "feed/user_1", "engagement/tweet_1"]);
  socket.serverSubscribeAll();
  const topics = [{ topic: "AI", tweet_count: 250, engagement_score: 8.7, growth_rate: 0.15 }];
  const engagement = { likes: 152, replies: 13, retweets: 45, bookmarks: 8 };
  socket.serverStream("notifications/user_1", "notification", { notification_id: "n1" });
  socket.serverStream("trending", "trending", { topics, count: 1 });
  socket.serverStream("feed/user_1", "feed_update", { tweets: [], count: 0 });
  socket.serverStream("engagement/tweet_1", "engagement_update", { tweet_id: "tweet_1", engagement });
  expect(log.mock.calls.map((call) => call[0])).toEqual([
    "New notification:",
    "Trending updated:",
    "New tweets:",
    "Engagement updated:",
  ]);
  expect(log.mock.calls[1][1]).toEqual(topics);
  expect(log.mock.calls[3][1]).toEqual(engagement);

  answerStats(new Response(JSON.stringify(stats), { status: 200 }));
  await example;
  expect(log).toHaveBeenLastCalledWith("Connected users:", 5);
  expect(socket.sentOfType("unsubscribe").map((m) => m.stream)).toEqual([
    "notifications/user_1",
    "trending",
    "feed/user_1",
    "engagement/tweet_1",
  ]);
  expect(socket.closedWith).toEqual({ code: 1000, reason: "unsubscribed" });
});
