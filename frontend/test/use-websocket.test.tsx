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
import { RealtimeClient } from "../lib/websocket-client";
import { FakeWebSocket, FakeWindow } from "./fake-websocket";

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

let client: RealtimeClient;
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

/** The page's one `/ws/` socket (the newest, after a reconnect). */
function connection(): FakeWebSocket {
  const sockets = FakeWebSocket.multiplexed();
  expect(sockets.length).toBeGreaterThan(0);
  return sockets[sockets.length - 1];
}

/** The server welcomes the connection and joins every stream asked for. */
function serverOpen(socket = connection()) {
  socket.serverWelcome();
  socket.serverSubscribeAll();
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
  client = new RealtimeClient("http://example.test", {
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
  function Trending() {
    const { trending, status } = useTrending();
    return (
      <p>
        {status}:{trending.map((t) => t.topic).join(",")}
      </p>
    );
  }

  it("gives components on the same stream one subscription, ended when the last unmounts", async () => {
    const first = render(<Trending />, { wrapper });
    const second = render(<Trending />, { wrapper });
    const notifications = renderHook(() => useNotifications("42"), { wrapper });
    const socket = connection();
    act(() => {
      serverOpen(socket);
      socket.serverStream("trending", "trending", {
        topics: [{ topic: "AI", tweet_count: 3, engagement_score: 1, growth_rate: 0 }],
        count: 1,
      });
    });
    expect(socket.subscribes()).toEqual(["trending", "notifications/42"]);
    expect(first.container.textContent).toBe("open:AI");
    expect(second.container.textContent).toBe("open:AI");
    first.unmount();
    expect(socket.sentOfType("unsubscribe")).toEqual([]);
    second.unmount();
    expect(socket.sentOfType("unsubscribe")).toEqual([{ type: "unsubscribe", stream: "trending" }]);
    expect(socket.closedWith).toBeNull();
    notifications.unmount();
    expect(socket.closedWith?.code).toBe(1000);
    expect(client.keys()).toEqual([]);
  });

  it("keeps every hook of the page on the client's one socket", async () => {
    render(<Trending />, { wrapper });
    renderHook(() => useNotifications("42"), { wrapper });
    renderHook(() => useFeedUpdates("42"), { wrapper });
    for (const id of ["1", "2", "3"]) renderHook(() => useEngagementUpdates(id), { wrapper });
    await settle();
    act(() => connection().serverWelcome());
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(connection().subscribes()).toEqual([
      "trending",
      "notifications/42",
      "feed/42",
      "engagement/1",
      "engagement/2",
      "engagement/3",
    ]);
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

    const socket = connection();
    act(() => serverOpen(socket));
    expect(result.current.status).toBe("open");
    act(() => {
      socket.serverStream("notifications/42", "notification", notification("10"));
      socket.serverStream("notifications/42", "notification", notification("10")); // a duplicate (replay + live)
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
    act(() => connection().serverWelcome());
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(1);
    act(() => connection().serverSubscribed("notifications/42"));
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(2);
    expect(result.current.unreadCount).toBe(1);
  });

  it("reads REST again after a reconnect, and resumes from the newest id", async () => {
    api.notifications.mockResolvedValue(page([notification("5")]));
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    const first = connection();
    act(() => serverOpen(first));
    await settle();
    expect(api.notifications).toHaveBeenCalledTimes(2);

    // Missed while disconnected: REST has it.
    api.notifications.mockResolvedValue(page([notification("6"), notification("5")]));
    act(() => first.serverClose(1006));
    expect(result.current.status).toBe("reconnecting");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
    });
    const second = connection();
    expect(second).not.toBe(first);
    act(() => second.serverWelcome());
    expect(second.sentOfType("subscribe")).toEqual([{ type: "subscribe", stream: "notifications/42", since: "5" }]);
    act(() => second.serverSubscribeAll());
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
    const socket = connection();
    act(() => {
      serverOpen(socket);
      socket.serverStream("notifications/42", "notification", notification("1"));
      socket.serverStream("notifications/42", "notification", notification("2"));
    });
    expect(onLive).toHaveBeenCalledTimes(1);
    expect(onLive.mock.calls[0][0].notification_id).toBe("2");
  });

  it("follows notifications marked read elsewhere (another tab)", async () => {
    api.notifications.mockResolvedValue(page([notification("3"), notification("2"), notification("1")]));
    const { result } = renderHook(() => useNotifications("42"), { wrapper });
    await settle();
    const socket = connection();
    act(() => serverOpen(socket));
    await settle();
    act(() =>
      socket.serverStream("notifications/42", "notifications_read", {
        notification_ids: ["3", "1"],
        all: false,
        unread_count: 1,
      }),
    );
    expect(result.current.notifications.filter((n) => !n.read).map((n) => n.notification_id)).toEqual(["2"]);
    act(() =>
      socket.serverStream("notifications/42", "notifications_read", { notification_ids: [], all: true, unread_count: 0 }),
    );
    expect(result.current.unreadCount).toBe(0);
  });
});

describe("useFeedUpdates", () => {
  it("buffers others' new tweets until flushed", () => {
    const { result } = renderHook(() => useFeedUpdates("42"), { wrapper });
    const socket = connection();
    act(() => {
      serverOpen(socket);
      socket.serverStream("feed/42", "feed_update", { tweets: [tweet("7"), tweet("8", "42")], count: 2 });
      socket.serverStream("feed/42", "feed_update", { tweets: [tweet("9"), tweet("7")], count: 2 });
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
    const first = connection();
    act(() => serverOpen(first));
    expect(first.sentOfType("subscribe")).toEqual([{ type: "subscribe", stream: "feed/42", since: "10" }]);
    api.feed.mockResolvedValue(page([tweet("12"), tweet("11", "42"), tweet("10"), tweet("3")]));
    act(() => first.serverClose(1001));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
    });
    const second = connection();
    act(() => serverOpen(second));
    expect(second.sentOfType("subscribe")).toEqual([{ type: "subscribe", stream: "feed/42", since: "10" }]);
    await settle();
    expect(result.current.newTweets.map((t) => t.tweet_id)).toEqual(["12"]);
    expect(client.getResumeId("feed-42")).toBe("12");
  });
});

describe("useEngagementUpdates", () => {
  it("shows counters and who is typing", () => {
    const { result } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = connection();
    const typing = (user_id: string, user_name: string, is_typing: boolean) =>
      socket.serverStream("engagement/9", "typing", { tweet_id: "9", user_id, user_name, is_typing });
    act(() => {
      serverOpen(socket);
      socket.serverStream("engagement/9", "engagement_update", {
        tweet_id: "9",
        engagement: { likes: 3, replies: 1, retweets: 0, bookmarks: 2 },
      });
      typing("2", "Bob", true);
      typing("3", "Cy", true);
    });
    expect(result.current.engagement?.likes).toBe(3);
    expect(result.current.typingUsers.map((u) => u.user_name)).toEqual(["Bob", "Cy"]);
    act(() => typing("2", "Bob", false));
    expect(result.current.typingUsers.map((u) => u.user_name)).toEqual(["Cy"]);
    // Nobody replays typing: a dropped connection forgets it.
    act(() => socket.serverClose(1006));
    expect(result.current.typingUsers).toEqual([]);
  });

  it("sends typing once, refreshes it while keys keep coming, and stops when idle", () => {
    const { result } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = connection();
    act(() => serverOpen(socket));
    const typing = () => socket.sentOfType("typing");
    act(() => result.current.setTyping(true));
    act(() => result.current.setTyping(true));
    expect(typing()).toEqual([{ type: "typing", stream: "engagement/9", is_typing: true }]);
    act(() => {
      vi.advanceTimersByTime(3000);
      result.current.setTyping(true);
    });
    expect(typing()).toHaveLength(2);
    act(() => {
      vi.advanceTimersByTime(4000);
    });
    expect(typing()[2]).toEqual({ type: "typing", stream: "engagement/9", is_typing: false });
    act(() => result.current.setTyping(false));
    expect(typing()).toHaveLength(3);
  });

  it("says it stopped typing when unmounted mid-reply", () => {
    const { result, unmount } = renderHook(() => useEngagementUpdates("9"), { wrapper });
    const socket = connection();
    act(() => serverOpen(socket));
    act(() => result.current.setTyping(true));
    unmount();
    expect(socket.sentJson()).toEqual([
      { type: "subscribe", stream: "engagement/9" },
      { type: "typing", stream: "engagement/9", is_typing: true },
      { type: "typing", stream: "engagement/9", is_typing: false },
      { type: "unsubscribe", stream: "engagement/9" },
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
    act(() => connection().serverWelcome());
    expect(connection().subscribes()).toEqual(["engagement/9"]);
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
