// @vitest-environment jsdom
import { act, cleanup, render, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Api } from "../lib/api";
import type { Notification, Page, Tweet } from "../lib/types";
import {
  RealtimeProvider,
  summarize,
  useEngagementUpdates,
  useFeedUpdates,
  useNotifications,
  useTrending,
} from "../lib/use-websocket";
import { RecommendationEngineWebSocket } from "../lib/websocket-client";
import { envelope, FakeWebSocket, FakeWindow } from "./fake-websocket";

function page<T>(results: T[]): Page<T> {
  return { next: null, previous: null, results };
}

function notification(id: string, read = false): Notification {
  return {
    notification_id: id,
    type: "LIKE",
    actor_id: "2",
    actor_name: "Bob",
    tweet_id: "9",
    read,
    created_at: "2026-01-25T10:30:00Z",
  };
}

function tweet(id: string, author = "2"): Tweet {
  return {
    tweet_id: id,
    author_id: author,
    author_name: `User ${author}`,
    content: `tweet ${id}`,
    topics: [],
    reply_to: null,
    engagement: { likes: 0, replies: 0, retweets: 0, bookmarks: 0 },
    created_at: "2026-01-25T10:30:00Z",
  };
}

let client: RecommendationEngineWebSocket;
let api: Record<string, ReturnType<typeof vi.fn>>;

function wrapper({ children }: { children?: ReactNode }) {
  return (
    <RealtimeProvider client={client} api={api as unknown as Api}>
      {children}
    </RealtimeProvider>
  );
}

/** Let pending promises (fake REST answers) settle inside act(). */
async function settle() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

function socketFor(path: string): FakeWebSocket {
  const sockets = FakeWebSocket.for(path);
  expect(sockets.length).toBeGreaterThan(0);
  return sockets[sockets.length - 1];
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
  client = new RecommendationEngineWebSocket("http://example.test", {
    WebSocket: FakeWebSocket,
    onlineTarget: new FakeWindow(),
    jitter: 0,
  });
  api = {
    notifications: vi.fn(async () => page<Notification>([])),
    unreadNotifications: vi.fn(async () => [] as Notification[]),
    markRead: vi.fn(async () => ({ updated: 1, unread_count: 0 })),
    markAllRead: vi.fn(async () => ({ updated: 1, unread_count: 0 })),
    trending: vi.fn(async () => ({ topics: [], count: 0 })),
    feed: vi.fn(async () => page<Tweet>([])),
  };
});

afterEach(() => {
  cleanup();
  client.unsubscribeAll();
  vi.useRealTimers();
});

describe("sharing and cleanup", () => {
  it("gives components on the same stream one socket, closed when the last unmounts", async () => {
    function Trending() {
      const { trending, status } = useTrending();
      return (
        <p>
          {status}:{trending.map((t) => t.topic).join(",")}
        </p>
      );
    }
    const first = render(<Trending />, { wrapper });
    const second = render(<Trending />, { wrapper });
    expect(FakeWebSocket.for("/ws/trending")).toHaveLength(1);
    const socket = socketFor("/ws/trending");
    act(() => {
      socket.serverOpen();
      socket.serverSend(
        envelope("trending", { topics: [{ topic: "AI", tweet_count: 3, engagement_score: 1, growth_rate: 0 }], count: 1 }),
      );
    });
    expect(first.container.textContent).toBe("open:AI");
    expect(second.container.textContent).toBe("open:AI");
    first.unmount();
    expect(socket.closedWith).toBeNull();
    second.unmount();
    expect(socket.closedWith?.code).toBe(1000);
    expect(client.keys()).toEqual([]);
  });
});

describe("useNotifications", () => {
  it("loads over REST, counts live ones once, and marks read", async () => {
    api.notifications.mockResolvedValue(page([notification("3", true), notification("2")]));
    api.unreadNotifications.mockResolvedValue([notification("2"), notification("1")]);
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    expect(result.current.notifications.map((n) => n.notification_id)).toEqual(["3", "2", "1"]);
    expect(result.current.unreadCount).toBe(2);

    const socket = socketFor("/ws/notifications/42");
    act(() => socket.serverOpen());
    expect(result.current.status).toBe("open");
    act(() => {
      socket.serverSend(envelope("notification", notification("10")));
      socket.serverSend(envelope("notification", notification("10"))); // a duplicate (replay + live)
    });
    expect(result.current.notifications[0].notification_id).toBe("10");
    expect(result.current.unreadCount).toBe(3);

    act(() => result.current.markRead("10"));
    expect(result.current.unreadCount).toBe(2);
    expect(api.markRead).toHaveBeenCalledWith("10");
    act(() => result.current.markAllRead());
    expect(result.current.unreadCount).toBe(0);
    expect(api.markAllRead).toHaveBeenCalled();
  });

  it("reads REST again once subscribed, so nothing committed before the subscription is missed", async () => {
    api.notifications.mockResolvedValue(page([]));
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(1);
    // Saved after the first read, before the server joined the stream's group.
    api.notifications.mockResolvedValue(page([notification("3")]));
    act(() => socketFor("/ws/notifications/42").serverOpen());
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(2);
    expect(result.current.unreadCount).toBe(1);
  });

  it("reads REST again after a reconnect, and resumes from the newest id", async () => {
    api.notifications.mockResolvedValue(page([notification("5")]));
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    const first = socketFor("/ws/notifications/42");
    act(() => first.serverOpen());
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(2);

    // Missed while disconnected: REST has it.
    api.notifications.mockResolvedValue(page([notification("6"), notification("5")]));
    act(() => first.serverClose(1006));
    expect(result.current.status).toBe("reconnecting");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
    });
    const second = socketFor("/ws/notifications/42");
    expect(second.query.get("since")).toBe("5");
    act(() => second.serverOpen());
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(3);
    expect(result.current.unreadCount).toBe(2);
  });

  it("keeps a notification read here read, whatever an older REST answer says", async () => {
    api.notifications.mockResolvedValue(page([notification("1")]));
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    act(() => result.current.markRead("1"));
    await act(async () => {
      await result.current.refresh();
    });
    expect(result.current.unreadCount).toBe(0);
  });

  it("calls onLive for new live notifications only", async () => {
    const onLive = vi.fn();
    api.notifications.mockResolvedValue(page([notification("1")]));
    renderHook(() => useNotifications("42", { onLive }), { wrapper });
    await settle();
    const socket = socketFor("/ws/notifications/42");
    act(() => {
      socket.serverOpen();
      socket.serverSend(envelope("notification", notification("1")));
      socket.serverSend(envelope("notification", notification("2")));
    });
    expect(onLive).toHaveBeenCalledTimes(1);
    expect(onLive.mock.calls[0][0].notification_id).toBe("2");
  });
});

describe("useFeedUpdates", () => {
  it("buffers others' new tweets until flushed", () => {
    const { result } = renderHook(() => useFeedUpdates("42"), { wrapper });
    const socket = socketFor("/ws/feed/42");
    act(() => {
      socket.serverOpen();
      socket.serverSend(envelope("feed_update", { tweets: [tweet("7"), tweet("8", "42")], count: 2 }));
      socket.serverSend(envelope("feed_update", { tweets: [tweet("9"), tweet("7")], count: 2 }));
    });
    expect(result.current.newTweets.map((t) => t.tweet_id)).toEqual(["9", "7"]);
    let flushed: Tweet[] = [];
    act(() => {
      flushed = result.current.flush();
    });
    expect(flushed.map((t) => t.tweet_id)).toEqual(["9", "7"]);
    expect(result.current.newTweets).toEqual([]);
  });

  it("catches up over REST after a reconnect, from the resume point", async () => {
    const { result } = renderHook(() => useFeedUpdates("42", { since: "10" }), { wrapper });
    const first = socketFor("/ws/feed/42");
    expect(first.query.get("since")).toBe("10");
    act(() => first.serverOpen());
    api.feed.mockResolvedValue(page([tweet("12"), tweet("11", "42"), tweet("10"), tweet("3")]));
    act(() => first.serverClose(1001));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
    });
    const second = socketFor("/ws/feed/42");
    expect(second.query.get("since")).toBe("10");
    act(() => second.serverOpen());
    await settle();
    expect(result.current.newTweets.map((t) => t.tweet_id)).toEqual(["12"]);
    expect(client.getResumeId("feed-42")).toBe("12");
  });
});

describe("useEngagementUpdates", () => {
  it("shows counters and who is typing", () => {
    const { result } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = socketFor("/ws/engagement/9");
    act(() => {
      socket.serverOpen();
      socket.serverSend(
        envelope("engagement_update", { tweet_id: "9", engagement: { likes: 3, replies: 1, retweets: 0, bookmarks: 2 } }),
      );
      socket.serverSend(envelope("typing", { tweet_id: "9", user_id: "2", user_name: "Bob", is_typing: true }));
      socket.serverSend(envelope("typing", { tweet_id: "9", user_id: "3", user_name: "Cy", is_typing: true }));
    });
    expect(result.current.engagement?.likes).toBe(3);
    expect(result.current.typingUsers.map((u) => u.user_name)).toEqual(["Bob", "Cy"]);
    act(() => socket.serverSend(envelope("typing", { tweet_id: "9", user_id: "2", user_name: "Bob", is_typing: false })));
    expect(result.current.typingUsers.map((u) => u.user_name)).toEqual(["Cy"]);
    // Nobody replays typing: a dropped connection forgets it.
    act(() => socket.serverClose(1006));
    expect(result.current.typingUsers).toEqual([]);
  });

  it("sends typing once, refreshes it while keys keep coming, and stops when idle", () => {
    const { result } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = socketFor("/ws/engagement/9");
    act(() => socket.serverOpen());
    const typing = () => socket.sentJson().filter((m) => (m as { type: string }).type === "typing");
    act(() => result.current.setTyping(true));
    act(() => result.current.setTyping(true));
    expect(typing()).toEqual([{ type: "typing", is_typing: true }]);
    act(() => {
      vi.advanceTimersByTime(3000);
      result.current.setTyping(true);
    });
    expect(typing()).toHaveLength(2);
    act(() => {
      vi.advanceTimersByTime(4000);
    });
    expect(typing()[2]).toEqual({ type: "typing", is_typing: false });
    act(() => result.current.setTyping(false));
    expect(typing()).toHaveLength(3);
  });

  it("says it stopped typing when unmounted mid-reply", () => {
    const { result, unmount } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = socketFor("/ws/engagement/9");
    act(() => socket.serverOpen());
    act(() => result.current.setTyping(true));
    unmount();
    expect(socket.sentJson()).toEqual([
      { type: "typing", is_typing: true },
      { type: "typing", is_typing: false },
    ]);
    expect(socket.closedWith?.code).toBe(1000);
  });

  it("does not subscribe while disabled", () => {
    const { result, rerender } = renderHook(({ on }) => useEngagementUpdates("9", { enabled: on }), {
      wrapper,
      initialProps: { on: false },
    });
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(result.current.status).toBe("idle");
    rerender({ on: true });
    expect(FakeWebSocket.for("/ws/engagement/9")).toHaveLength(1);
  });
});

describe("summarize", () => {
  const at = (key: string, state: "connecting" | "open" | "reconnecting" | "closed", extra = {}) => ({
    key,
    state,
    attempt: 0,
    ...extra,
  });

  it("folds the streams into one badge state", () => {
    expect(summarize([]).status).toBe("idle");
    expect(summarize([at("a", "connecting")]).status).toBe("connecting");
    expect(summarize([at("a", "open"), at("b", "connecting")]).status).toBe("live");
    expect(summarize([at("a", "open"), at("b", "open")]).status).toBe("live");
    expect(summarize([at("a", "open"), at("b", "reconnecting", { retryAt: 5 })])).toMatchObject({
      status: "reconnecting",
      retryAt: 5,
    });
    expect(summarize([at("a", "connecting", { attempt: 2 })]).status).toBe("reconnecting");
    expect(summarize([at("a", "open"), at("b", "closed", { closedBy: "gave-up" })]).status).toBe("offline");
    expect(summarize([at("a", "open"), at("b", "closed", { closedBy: "client" })]).status).toBe("live");
  });
});
