/**
 * React hooks over one shared RealtimeClient.
 *
 *   <RealtimeProvider client={client} api={api}> ... </RealtimeProvider>
 *   const { notifications, unreadCount, markRead, markAllRead, status } = useNotifications(userId);
 *   const { trending, status } = useTrending();
 *   const { newTweets, flush, status } = useFeedUpdates(userId);
 *   const { engagement, typingUsers, setTyping, status } = useEngagementUpdates(tweetId);
 *
 * Every hook subscribes through the provider's client, so a page holds
 * that client's one `/ws/` connection however many components subscribe
 * (with `multiplex: false`, one socket per stream, shared by the
 * components on it). A subscription ends when its component unmounts, and
 * the connection closes when the last one does. Without a provider the
 * hooks share one client and REST API for the page's own origin.
 *
 * A WebSocket only tells what happens while it is open. So the hooks that
 * show server state (notifications, feed) also read it over REST when they
 * mount and each time their stream reconnects: the UI shows what happened
 * while it was disconnected, whether or not the server replays it (`since`).
 */

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type ReactNode,
} from "react";

import { Api } from "./api";
import type { EngagementCounts, Notification, NotificationStreamMessage, TrendingTopic, Tweet } from "./types";
import { isNewerId, RealtimeClient, type ConnectionState, type Refusal, type StateChange } from "./websocket-client";

/** A stream's state, or `idle` when the hook is not subscribed (no user, disabled). */
export type StreamStatus = ConnectionState | "idle";

interface RealtimeContextValue {
  client: RealtimeClient;
  /** REST access for the initial and catch-up reads; null for live-only hooks. */
  api: Api | null;
}

const RealtimeContext = createContext<RealtimeContextValue | null>(null);

export function RealtimeProvider(props: {
  client: RealtimeClient;
  api?: Api | null;
  children?: ReactNode;
}) {
  const { client, api = null, children } = props;
  const value = useMemo(() => ({ client, api }), [client, api]);
  return createElement(RealtimeContext.Provider, { value }, children);
}

let defaults: RealtimeContextValue | null = null;

function pageDefaults(): RealtimeContextValue {
  if (!defaults) defaults = { client: new RealtimeClient(), api: new Api() };
  return defaults;
}

export function useRealtime(): RealtimeContextValue {
  return useContext(RealtimeContext) ?? pageDefaults();
}

export function useWebSocketClient(): RealtimeClient {
  return useRealtime().client;
}

export function sortNewestFirst<T>(items: T[], id: (item: T) => string): T[] {
  return [...items].sort((a, b) => (isNewerId(id(a), id(b)) ? -1 : id(a) === id(b) ? 0 : 1));
}

export interface StreamStatusInfo {
  status: StreamStatus;
  /** Why the server refuses the stream (a limit, or access), while it does. */
  refusal: Refusal | null;
}

const IDLE: StreamStatusInfo = { status: "idle", refusal: null };

function infoOf(change: StateChange | undefined): StreamStatusInfo {
  return change ? { status: change.state, refusal: change.refusal ?? null } : IDLE;
}

/** The live state of stream `key` and the server's refusal of it, if any (null key: not subscribed). */
export function useStreamInfo(key: string | null): StreamStatusInfo {
  const client = useWebSocketClient();
  const read = useCallback(() => (key ? infoOf(client.getStateChange(key)) : IDLE), [client, key]);
  const [info, setInfo] = useState<StreamStatusInfo>(read);
  useEffect(() => {
    setInfo(read());
    if (!key) return undefined;
    return client.on("state", (change) => {
      if (change.key !== key) return;
      const next = infoOf(change);
      setInfo((current) =>
        current.status === next.status &&
        current.refusal?.code === next.refusal?.code &&
        current.refusal?.message === next.refusal?.message
          ? current
          : next,
      );
    });
  }, [client, key, read]);
  return info;
}

/** The live state of stream `key` (null: not subscribed). */
export function useStreamStatus(key: string | null): StreamStatus {
  return useStreamInfo(key).status;
}

/**
 * Call `onOpen(isReconnect)` each time stream `key` opens. The first open
 * after mounting is not a reconnect; every later one is.
 */
function useOnOpen(key: string | null, onOpen: (isReconnect: boolean) => void): void {
  const client = useWebSocketClient();
  const callback = useRef(onOpen);
  callback.current = onOpen;
  useEffect(() => {
    if (!key) return undefined;
    let opens = client.getState(key) === "open" ? 1 : 0;
    return client.on("open", (change) => {
      if (change.key !== key) return;
      opens += 1;
      callback.current(opens > 1);
    });
  }, [client, key]);
}

// --- Notifications ----------------------------------------------------------

type NotificationAction =
  | { type: "merge"; items: Notification[] }
  | { type: "read"; id: string }
  | { type: "readMany"; ids: string[] }
  | { type: "readAll" }
  | { type: "reset" };

function mergeNotifications(current: Notification[], incoming: Notification[]): Notification[] {
  const byId = new Map(current.map((n) => [n.notification_id, n]));
  for (const item of incoming) {
    const known = byId.get(item.notification_id);
    // Reading is one-way: a read made here wins over an older unread copy.
    byId.set(item.notification_id, known?.read ? { ...item, read: true } : item);
  }
  return sortNewestFirst([...byId.values()], (n) => n.notification_id);
}

function notificationsReducer(state: Notification[], action: NotificationAction): Notification[] {
  switch (action.type) {
    case "merge":
      return mergeNotifications(state, action.items);
    case "read":
      return state.map((n) => (n.notification_id === action.id ? { ...n, read: true } : n));
    case "readMany": {
      const ids = new Set(action.ids);
      return state.map((n) => (ids.has(n.notification_id) && !n.read ? { ...n, read: true } : n));
    }
    case "readAll":
      return state.some((n) => !n.read) ? state.map((n) => (n.read ? n : { ...n, read: true })) : state;
    case "reset":
      return [];
  }
}

export interface NotificationsOptions {
  /** How many recent (read or unread) notifications to load; all unread ones load too. */
  pageSize?: number;
  /** Called for each notification that arrives live (e.g. to show a toast). */
  onLive?: (notification: Notification) => void;
}

export function useNotifications(userId: string | null | undefined, options: NotificationsOptions = {}) {
  const { client, api } = useRealtime();
  const { pageSize = 30 } = options;
  const key = userId ? `notifications-${userId}` : null;
  const [notifications, dispatch] = useReducer(notificationsReducer, []);
  const [loading, setLoading] = useState(Boolean(api && userId));
  const onLive = useRef(options.onLive);
  onLive.current = options.onLive;
  const known = useRef(new Set<string>());

  const refresh = useCallback(async () => {
    if (!api || !userId) return;
    try {
      const [recent, unread] = await Promise.all([api.notifications(pageSize), api.unreadNotifications()]);
      const items = [...recent.results, ...unread];
      items.forEach((n) => known.current.add(n.notification_id));
      if (items.length) client.setResumeId(`notifications-${userId}`, sortNewestFirst(items, (n) => n.notification_id)[0].notification_id);
      dispatch({ type: "merge", items });
    } catch {
      // Offline or signed out: the socket's state tells the UI; the next open retries.
    } finally {
      setLoading(false);
    }
  }, [api, client, userId, pageSize]);

  useEffect(() => {
    dispatch({ type: "reset" });
    known.current = new Set();
    if (!userId) return undefined;
    setLoading(Boolean(api));
    void refresh();
    return client.subscribeToNotifications(userId, (message: NotificationStreamMessage) => {
      if (message.type === "notifications_read") {
        // Read in another tab (or by this one): every tab's badge follows.
        const { all, notification_ids } = message.data;
        dispatch(all ? { type: "readAll" } : { type: "readMany", ids: notification_ids ?? [] });
        return;
      }
      const item = { read: false, ...message.data };
      const isNew = !known.current.has(item.notification_id);
      known.current.add(item.notification_id);
      dispatch({ type: "merge", items: [item] });
      if (isNew && !item.read) onLive.current?.(item);
    });
  }, [client, userId, refresh, api]);

  // Read again each time the stream opens, the first time included: "open"
  // means subscribed, so what the first read (at mount) could not see yet
  // and the stream did not carry is in this one.
  useOnOpen(key, () => void refresh());

  const markRead = useCallback(
    (notificationId: string) => {
      dispatch({ type: "read", id: notificationId });
      api?.markRead(notificationId).catch(() => void refresh());
    },
    [api, refresh],
  );

  const markAllRead = useCallback(() => {
    dispatch({ type: "readAll" });
    api?.markAllRead().catch(() => void refresh());
  }, [api, refresh]);

  const unreadCount = useMemo(() => notifications.filter((n) => !n.read).length, [notifications]);
  const { status, refusal } = useStreamInfo(key);
  return { notifications, unreadCount, markRead, markAllRead, status, refusal, loading, refresh };
}

// --- Trending ---------------------------------------------------------------

export function useTrending() {
  const { client, api } = useRealtime();
  const [trending, setTrending] = useState<TrendingTopic[]>([]);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    let live = false;
    let cancelled = false;
    // REST paints at once; the socket's snapshot and updates take over.
    api
      ?.trending()
      .then((data) => {
        if (!live && !cancelled) {
          setTrending(data.topics ?? []);
          setLoaded(true);
        }
      })
      .catch(() => undefined);
    const off = client.subscribeToTrending((message) => {
      if (message.type !== "trending") return;
      live = true;
      setTrending(message.data.topics ?? []);
      setLoaded(true);
    });
    return () => {
      cancelled = true;
      off();
    };
  }, [client, api]);
  const { status, refusal } = useStreamInfo("trending");
  return { trending, status, refusal, loaded };
}

// --- Feed -------------------------------------------------------------------

export interface FeedUpdatesOptions {
  /** The newest tweet id the page already shows: only newer ones are "new". */
  since?: string | null;
}

export function useFeedUpdates(userId: string | null | undefined, options: FeedUpdatesOptions = {}) {
  const { client, api } = useRealtime();
  const key = userId ? `feed-${userId}` : null;
  const [newTweets, setNewTweets] = useState<Tweet[]>([]);
  const buffer = useRef<Tweet[]>([]);

  const add = useCallback(
    (tweets: Tweet[]) => {
      // Your own tweets are already on your page; the feed stream is for others'.
      const fresh = tweets.filter((t) => t && t.author_id !== userId);
      if (!fresh.length) return;
      const byId = new Map(buffer.current.map((t) => [t.tweet_id, t]));
      for (const tweet of fresh) byId.set(tweet.tweet_id, tweet);
      buffer.current = sortNewestFirst([...byId.values()], (t) => t.tweet_id);
      setNewTweets(buffer.current);
    },
    [userId],
  );

  useEffect(() => {
    if (key && options.since) client.setResumeId(key, options.since);
  }, [client, key, options.since]);

  useEffect(() => {
    buffer.current = [];
    setNewTweets([]);
    if (!userId) return undefined;
    return client.subscribeToFeed(
      userId,
      (message) => {
        if (message.type === "feed_update") add(message.data.tweets ?? []);
      },
      options.since ? { since: options.since } : {},
    );
    // `since` only seeds the resume point; it must not resubscribe.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, userId, add]);

  useOnOpen(key, (isReconnect) => {
    if (!isReconnect || !api || !key) return;
    // Catch up over REST on what arrived while disconnected.
    const seen = client.getResumeId(key);
    api
      .feed()
      .then((page) => {
        const missed = page.results.filter((t) => isNewerId(t.tweet_id, seen) && t.tweet_id !== seen);
        if (missed.length) client.setResumeId(key, sortNewestFirst(missed, (t) => t.tweet_id)[0].tweet_id);
        add(missed);
      })
      .catch(() => undefined);
  });

  /** Hand over the buffered new tweets (newest first) and clear the buffer. */
  const flush = useCallback((): Tweet[] => {
    const out = buffer.current;
    buffer.current = [];
    setNewTweets([]);
    return out;
  }, []);

  const { status, refusal } = useStreamInfo(key);
  return { newTweets, flush, status, refusal };
}

// --- Engagement and typing ----------------------------------------------------

export interface TypingUser {
  user_id: string;
  user_name: string;
}

export interface EngagementOptions {
  /** Subscribe only while true (e.g. while the tweet is on screen). Default true. */
  enabled?: boolean;
  /** Report "stopped typing" after this long without a keystroke (ms). Default 4000. */
  typingIdleMs?: number;
  /** Re-send "typing" at most this often while keys keep coming (ms), so the
   * server's 6 s expiry does not fire mid-sentence. Default 3000. */
  typingRefreshMs?: number;
}

export function useEngagementUpdates(tweetId: string | null | undefined, options: EngagementOptions = {}) {
  const { client } = useRealtime();
  const { enabled = true, typingIdleMs = 4000, typingRefreshMs = 3000 } = options;
  const active = Boolean(tweetId && enabled);
  const key = active ? `engagement-${tweetId}` : null;
  const [engagement, setEngagement] = useState<EngagementCounts | null>(null);
  const [typingUsers, setTypingUsers] = useState<TypingUser[]>([]);
  const mine = useRef({ typing: false, lastSent: 0, idle: null as ReturnType<typeof setTimeout> | null });

  useEffect(() => {
    if (!active || !tweetId) return undefined;
    const offCounts = client.subscribeToEngagement(tweetId, (message) => {
      if (message.data.tweet_id === tweetId) setEngagement(message.data.engagement);
    });
    const offTyping = client.subscribeToTyping(tweetId, (message) => {
      if (message.data.tweet_id !== tweetId) return;
      const { user_id, user_name, is_typing } = message.data;
      setTypingUsers((users) => {
        const others = users.filter((u) => u.user_id !== user_id);
        return is_typing ? [...others, { user_id, user_name }] : others;
      });
    });
    const state = mine.current;
    return () => {
      if (state.idle) clearTimeout(state.idle);
      state.idle = null;
      if (state.typing) client.sendTyping(tweetId, false);
      state.typing = false;
      offTyping();
      offCounts();
      setTypingUsers([]);
    };
  }, [client, tweetId, active]);

  // Nobody replays who is typing: after a reconnect, start from nobody.
  useOnOpen(key, () => setTypingUsers([]));
  const { status, refusal } = useStreamInfo(key);
  useEffect(() => {
    if (status !== "open") setTypingUsers([]);
  }, [status]);

  const setTyping = useCallback(
    (isTyping: boolean) => {
      if (!tweetId) return;
      const state = mine.current;
      if (state.idle) clearTimeout(state.idle);
      state.idle = null;
      if (isTyping) {
        const now = Date.now();
        if (!state.typing || now - state.lastSent >= typingRefreshMs) {
          if (client.sendTyping(tweetId, true)) {
            state.typing = true;
            state.lastSent = now;
          }
        }
        state.idle = setTimeout(() => {
          state.idle = null;
          if (state.typing) client.sendTyping(tweetId, false);
          state.typing = false;
        }, typingIdleMs);
      } else if (state.typing) {
        client.sendTyping(tweetId, false);
        state.typing = false;
      }
    },
    [client, tweetId, typingIdleMs, typingRefreshMs],
  );

  return { engagement, typingUsers, setTyping, status, refusal };
}

// --- The connection as a whole ------------------------------------------------

export type OverallStatus = "idle" | "connecting" | "live" | "reconnecting" | "restarting" | "refused" | "offline";

export interface ConnectionSummary {
  status: OverallStatus;
  /** For `reconnecting`, `restarting` and `refused`: when the earliest retry starts (ms since epoch). */
  retryAt?: number;
  /** For `refused`: the server's reason (the first refused stream's). */
  refusal?: Refusal;
  streams: StateChange[];
}

function earliestRetry(streams: StateChange[]): number | undefined {
  const times = streams.map((s) => s.retryAt).filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** Fold every stream's state into one, for a connection badge. */
export function summarize(streams: StateChange[]): ConnectionSummary {
  const live = streams.filter((s) => !(s.state === "closed" && s.closedBy === "client"));
  if (!live.length) return { status: "idle", streams };
  const down = live.filter((s) => s.state !== "open");
  // The browser knows the network is gone: no stream can be live.
  if (down.some((s) => s.offline)) return { status: "offline", streams };
  const restarting = down.filter((s) => s.restarting);
  if (restarting.length) return { status: "restarting", retryAt: earliestRetry(restarting), streams };
  // A stream the server refuses says why, rather than "reconnecting" to no end.
  const refused = down.filter((s) => s.refusal);
  if (refused.length) {
    return { status: "refused", refusal: refused[0].refusal, retryAt: earliestRetry(refused), streams };
  }
  // A retry in flight (connecting again after a failure) is still "reconnecting".
  const retrying = live.filter(
    (s) => s.state === "reconnecting" || (s.state === "connecting" && s.attempt > 0),
  );
  if (retrying.length) return { status: "reconnecting", retryAt: earliestRetry(retrying), streams };
  if (live.some((s) => s.state === "closed")) return { status: "offline", streams };
  if (!live.some((s) => s.state === "open")) return { status: "connecting", streams };
  return { status: "live", streams };
}

/**
 * The page's connection as one state. `include` picks the streams that count
 * (e.g. leave out per-tweet engagement streams that come and go while scrolling).
 */
export function useConnectionSummary(include?: (key: string) => boolean): ConnectionSummary {
  const client = useWebSocketClient();
  const filter = useRef(include);
  filter.current = include;
  const read = useCallback(() => {
    const states = client.getStates();
    return summarize(filter.current ? states.filter((s) => filter.current!(s.key)) : states);
  }, [client]);
  const [summary, setSummary] = useState(read);
  useEffect(() => {
    setSummary(read());
    return client.on("state", () => setSummary(read()));
  }, [client, read]);
  return summary;
}
