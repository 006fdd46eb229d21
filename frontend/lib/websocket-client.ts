/**
 * The browser (and Node) client of the real-time streams.
 *
 *   const client = new RealtimeClient("http://localhost:8000");
 *   const off = client.subscribeToNotifications("42", (message) => ...);
 *   client.on("state", ({ key, state }) => ...);   // connecting | open | reconnecting | closed
 *   off();                                         // or client.unsubscribe("notifications-42")
 *
 * Streams are keyed `notifications-<userId>`, `feed-<userId>`, `trending`
 * and `engagement-<tweetId>`; every handler of a key shares its stream,
 * which ends when the last one leaves.
 *
 * By default all of them travel on ONE WebSocket at `/ws/`, each as a
 * subscription (realtime/subscriptions.ts) on one connection
 * (realtime/connection.ts): a tab holds one socket however many tweets it
 * watches. `multiplex: false` uses one socket per stream on the
 * single-stream endpoints instead (realtime/single-stream.ts). Both keep
 * their sockets with realtime/reconnecting-socket.ts, and their handlers
 * with realtime/handlers.ts.
 *
 * Reliability, as shared/PROTOCOL.md asks of a client, in both modes:
 * - Reconnect after an unexpected close with exponential backoff (3, 6, 12,
 *   24, 48 s, then every 48 s, never giving up unless `maxReconnectAttempts`
 *   says when), each delay jittered so that a restarted server is not hit
 *   by every client in the same instant; after a `reconnect` frame (a server
 *   draining for a restart) at its `after_ms` plus a little jitter instead.
 *   Close codes 4401/4403/4404 mean "retrying cannot help" and stop it.
 *   The browser's `online` event, and a hidden tab shown again, retry at
 *   once; its `offline` event drops the sockets and reports `offline`.
 * - A refusal (4429 for a limit, 4401/4403/4404) is on the stream's state as
 *   `refusal` (code and server message), so a page can say why it waits.
 * - A stream is `open` once the server has joined it (its `subscribed` on
 *   `/ws/`; the answer to the first ping on a single-stream socket): from
 *   then on nothing published is missed.
 * - Heartbeat: a ping every 30 s; a socket that does not answer within the
 *   pong deadline is half-open and is replaced.
 * - Resume: the newest notification id and feed tweet id seen are sent back
 *   (`since`) every time their stream subscribes again, so the server
 *   replays what was missed.
 *
 * Authentication: a browser's session cookie goes with every handshake by
 * itself. Other clients pass `getTicket` (a fresh single-use ticket per
 * connection attempt, `?ticket=`; see `ticketFromApi`) or `token` (`?token=`).
 */

import type {
  ConnectionStats,
  EngagementUpdateMessage,
  FeedUpdateMessage,
  NotificationStreamMessage,
  TrendingMessage,
  TypingMessage,
  WelcomeData,
} from "./types";
import type { MultiplexState } from "./realtime/connection";
import { SingleStream } from "./realtime/single-stream";
import { Multiplexer } from "./realtime/subscriptions";
import {
  DEFAULTS,
  feedCursor,
  isNewerId,
  notificationCursor,
  toHttpBase,
  toWebSocketBase,
  type ClientOptions,
  type ConnectionState,
  type HandlerEntry,
  type MessageHandler,
  type ResolvedOptions,
  type ServerErrorListener,
  type StateChange,
  type StateListener,
  type StreamHandle,
  type StreamHost,
  type StreamSpec,
  type SubscribeOptions,
  type Unsubscribe,
  type WebSocketFactory,
} from "./realtime/shared";

export type * from "./types";
export type { MultiplexState } from "./realtime/connection";
export {
  backoffDelay,
  FATAL_CLOSE_CODES,
  HEARTBEAT_TIMEOUT_CODE,
  isNewerId,
  REFUSAL_CODES,
  RESTART_CLOSE_CODES,
  ticketFromApi,
  TicketError,
  toWebSocketBase,
} from "./realtime/shared";
export type {
  ClientOptions,
  ConnectionState,
  MessageHandler,
  Refusal,
  ServerError,
  ServerErrorListener,
  StateChange,
  StateListener,
  SubscribeOptions,
  Unsubscribe,
  VisibilityTarget,
  WebSocketFactory,
  WebSocketLike,
} from "./realtime/shared";

type StateEvent = "state" | ConnectionState;

const NOTIFICATION_KINDS = new Set(["notification", "notifications_read"]);
const TRENDING_KINDS = new Set(["trending"]);
const FEED_KINDS = new Set(["feed_update"]);
const ENGAGEMENT_KINDS = new Set(["engagement_update"]);
const TYPING_KINDS = new Set(["typing"]);

function defaultBaseUrl(): string {
  const location = (globalThis as { location?: Location }).location;
  if (!location) throw new Error("baseUrl is required outside a browser");
  return location.origin;
}

export class RealtimeClient {
  readonly wsBase: string;
  readonly httpBase: string;
  /** One `/ws/` connection for every stream (true), or a socket per stream. */
  readonly multiplex: boolean;
  private readonly options: ResolvedOptions;
  private readonly host: StreamHost;
  private readonly mux: Multiplexer | null;
  private readonly streams = new Map<string, StreamHandle>();
  /** Resume ids outlive their stream, so a resubscription resumes too. */
  private readonly resumeIds = new Map<string, string>();
  private readonly listeners = new Map<StateEvent, Set<StateListener>>();
  private readonly errorListeners = new Set<ServerErrorListener>();
  private readonly onlineTarget: ClientOptions["onlineTarget"];
  private readonly visibilityTarget: ClientOptions["visibilityTarget"];
  private listening = false;

  constructor(baseUrl?: string, options: ClientOptions = {}) {
    const base = baseUrl || defaultBaseUrl();
    this.wsBase = toWebSocketBase(base);
    this.httpBase = toHttpBase(base);
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined),
    ) as ClientOptions;
    this.options = { ...DEFAULTS, ...defined };
    this.multiplex = this.options.multiplex;
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!impl) throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.onlineTarget =
      options.onlineTarget !== undefined
        ? options.onlineTarget
        : typeof window !== "undefined"
          ? window
          : null;
    this.visibilityTarget =
      options.visibilityTarget !== undefined
        ? options.visibilityTarget
        : typeof document !== "undefined"
          ? document
          : null;
    this.host = {
      WebSocketImpl: impl,
      random: options.random ?? Math.random,
      url: (path, ticket, params) => this.url(path, ticket, params),
      getResumeId: (key) => this.getResumeId(key),
      setResumeId: (key, id) => this.setResumeId(key, id),
      emitState: (change) => this.emitState(change),
      emitServerError: (error) => this.emitServerError(error),
    };
    this.mux = this.multiplex ? new Multiplexer(this.host, this.options) : null;
  }

  // --- Subscriptions -------------------------------------------------------

  /** Notifications of user `userId` (only that user may subscribe), and their being marked read. */
  subscribeToNotifications(
    userId: string,
    handler: MessageHandler<NotificationStreamMessage>,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    const key = `notifications-${userId}`;
    if (options.since) this.setResumeId(key, options.since);
    return this.subscribe(spec("notifications", userId, notificationCursor), NOTIFICATION_KINDS, handler);
  }

  /** The trending topics: a snapshot at once, then each change. */
  subscribeToTrending(handler: MessageHandler<TrendingMessage>): Unsubscribe {
    return this.subscribe(spec("trending"), TRENDING_KINDS, handler);
  }

  /** New tweets by the authors `userId` follows (only that user may subscribe). */
  subscribeToFeed(
    userId: string,
    handler: MessageHandler<FeedUpdateMessage>,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    const key = `feed-${userId}`;
    if (options.since) this.setResumeId(key, options.since);
    return this.subscribe(spec("feed", userId, feedCursor), FEED_KINDS, handler);
  }

  /** Live counters of tweet `tweetId` (a snapshot at once). */
  subscribeToEngagement(tweetId: string, handler: MessageHandler<EngagementUpdateMessage>): Unsubscribe {
    return this.subscribe(spec("engagement", tweetId), ENGAGEMENT_KINDS, handler);
  }

  /** Who is typing a reply to tweet `tweetId`: the same stream as its counters (`engagement-<id>`). */
  subscribeToTyping(tweetId: string, handler: MessageHandler<TypingMessage>): Unsubscribe {
    return this.subscribe(spec("engagement", tweetId), TYPING_KINDS, handler);
  }

  /** End stream `key` (e.g. `notifications-42`) and drop all its handlers. */
  unsubscribe(key: string): void {
    const stream = this.streams.get(key);
    if (!stream) return;
    this.streams.delete(key);
    stream.handlers.clear();
    stream.stop();
    this.updateOnlineListener();
  }

  /** End every stream (and so close the connection). */
  unsubscribeAll(): void {
    for (const key of [...this.streams.keys()]) this.unsubscribe(key);
  }

  /** Keys of the subscribed streams. */
  keys(): string[] {
    return [...this.streams.keys()];
  }

  // --- Client to server ----------------------------------------------------

  /** Tell the other watchers of `tweetId` that this user is (not) typing a reply.
   * Needs an open engagement subscription to that tweet; returns whether it was sent. */
  sendTyping(tweetId: string, isTyping: boolean): boolean {
    return this.send(`engagement-${tweetId}`, { type: "typing", is_typing: isTyping });
  }

  /** Send a JSON message on stream `key` (on `/ws/`, with its `stream`); false when it is not open. */
  send(key: string, message: { type: string } & Record<string, unknown>): boolean {
    return this.streams.get(key)?.send(message) ?? false;
  }

  // --- State ---------------------------------------------------------------

  /** Listen to state changes: `"state"` for all, or one state's name. Returns an unsubscribe. */
  on(event: StateEvent, listener: StateListener): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Listen to the server's `error` frames (`key`: the stream it was about, or null). */
  onServerError(listener: ServerErrorListener): Unsubscribe {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** The state of stream `key`, or undefined when not subscribed. */
  getState(key: string): ConnectionState | undefined {
    return this.streams.get(key)?.state;
  }

  /** The last state change of stream `key` (with its `refusal`, if refused), or undefined when not subscribed. */
  getStateChange(key: string): StateChange | undefined {
    return this.streams.get(key)?.last;
  }

  /** The last state change of every subscribed stream. */
  getStates(): StateChange[] {
    return [...this.streams.values()].map((stream) => stream.last);
  }

  /** The `/ws/` connection's state (`idle` without subscriptions); null with `multiplex: false`. */
  getConnectionState(): MultiplexState | null {
    return this.mux?.connection.state ?? null;
  }

  /** The current `/ws/` connection's `welcome` (who the server takes this client for), or null. */
  getWelcome(): WelcomeData | null {
    return this.mux?.connection.welcome ?? null;
  }

  /** Retry every stream that gave up or is waiting to retry, at once
   * (not one waiting out the delay a restarting server asked for). */
  reconnectNow(): void {
    if (this.mux) this.mux.retryNow();
    else for (const stream of this.streams.values()) stream.retryNow();
  }

  /** Drop every socket and report the streams offline (the browser's `offline` event does this). */
  goOffline(): void {
    if (this.mux) this.mux.connection.goOffline();
    else for (const stream of this.streams.values()) (stream as SingleStream).goOffline();
  }

  /** The newest id seen on resumable stream `key` (sent as `since` on reconnect). */
  getResumeId(key: string): string | undefined {
    return this.resumeIds.get(key);
  }

  /** Move the resume point of `key` forward to `id` (never backward). */
  setResumeId(key: string, id: string): void {
    if (isNewerId(id, this.resumeIds.get(key))) this.resumeIds.set(key, id);
  }

  /** GET /ws/stats. */
  async getStats(): Promise<ConnectionStats> {
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    const response = await fetchImpl(`${this.httpBase}/ws/stats`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`GET /ws/stats answered ${response.status}`);
    return (await response.json()) as ConnectionStats;
  }

  // --- Internals -------------------------------------------------------------

  private url(path: string, ticket?: string, extra: Record<string, string | undefined> = {}): string {
    const params = new URLSearchParams();
    if (ticket) params.set("ticket", ticket);
    else if (this.options.token) params.set("token", this.options.token);
    for (const [name, value] of Object.entries(extra)) if (value) params.set(name, value);
    const query = params.toString();
    return `${this.wsBase}${path}${query ? `?${query}` : ""}`;
  }

  private emitState(change: StateChange): void {
    for (const event of ["state", change.state] as StateEvent[]) {
      for (const listener of [...(this.listeners.get(event) ?? [])]) {
        try {
          listener(change);
        } catch (error) {
          console.error("state listener failed", error);
        }
      }
    }
  }

  private emitServerError(error: Parameters<ServerErrorListener>[0]): void {
    for (const listener of [...this.errorListeners]) {
      try {
        listener(error);
      } catch (failure) {
        console.error("error listener failed", failure);
      }
    }
  }

  /**
   * One single-stream socket got through after failing: the server is
   * back, so the others waiting out their backoff retry now rather than up
   * to a minute later. Not those refused for load (4429): they keep their pace.
   */
  private serverIsBack(fromKey: string): void {
    for (const stream of this.streams.values()) {
      if (stream.spec.key !== fromKey && stream.state === "reconnecting" && stream.last.code !== 4429) {
        stream.retryNow();
      }
    }
  }

  private subscribe<M>(spec: StreamSpec, kinds: ReadonlySet<string>, handler: MessageHandler<M>): Unsubscribe {
    const entry: HandlerEntry = { kinds, handler: handler as MessageHandler<never> };
    let stream = this.streams.get(spec.key);
    if (!stream) {
      stream = this.open(spec, entry);
    } else {
      stream.handlers.add(entry);
    }
    const subscribed = stream;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      subscribed.handlers.delete(entry);
      if (subscribed.handlers.size === 0 && this.streams.get(spec.key) === subscribed) {
        this.unsubscribe(spec.key);
      }
    };
  }

  private open(spec: StreamSpec, entry: HandlerEntry): StreamHandle {
    let stream: StreamHandle;
    if (this.mux) {
      stream = this.mux.add(spec);
      stream.handlers.add(entry);
      this.streams.set(spec.key, stream);
    } else {
      const single = new SingleStream(spec, this.host, this.options, (key) => this.serverIsBack(key));
      single.handlers.add(entry);
      this.streams.set(spec.key, single);
      stream = single;
      single.connect();
    }
    this.updateOnlineListener();
    return stream;
  }

  private readonly handleOnline = (): void => {
    this.reconnectNow();
  };

  private readonly handleOffline = (): void => {
    this.goOffline();
  };

  private readonly handleVisibility = (): void => {
    // A hidden tab's timers are throttled by the browser: its retry may be
    // minutes away. The person looking at it now wants it live now.
    if (this.visibilityTarget?.visibilityState !== "hidden") this.reconnectNow();
  };

  /** Listen to the browser's network and visibility events while any stream is held. */
  private updateOnlineListener(): void {
    const wanted = this.streams.size > 0;
    if (wanted === this.listening) return;
    this.listening = wanted;
    const method = wanted ? "addEventListener" : "removeEventListener";
    this.onlineTarget?.[method]("online", this.handleOnline);
    this.onlineTarget?.[method]("offline", this.handleOffline);
    this.visibilityTarget?.[method]("visibilitychange", this.handleVisibility);
  }
}

/** The spec of stream `kind` (with `id`): its key, its `/ws/` name and its own endpoint. */
function spec(kind: string, id?: string, cursorOf?: StreamSpec["cursorOf"]): StreamSpec {
  return {
    key: id === undefined ? kind : `${kind}-${id}`,
    stream: id === undefined ? kind : `${kind}/${id}`,
    path: id === undefined ? `/ws/${kind}` : `/ws/${kind}/${encodeURIComponent(id)}`,
    cursorOf,
  };
}

/** The seed's name for the client. */
export const RecommendationEngineWebSocket = RealtimeClient;
export type RecommendationEngineWebSocket = RealtimeClient;

export default RealtimeClient;
