/**
 * The browser (and Node) client of the four real-time streams.
 *
 *   const ws = new RecommendationEngineWebSocket("http://localhost:8000");
 *   const off = ws.subscribeToNotifications("42", (message) => ...);
 *   ws.on("state", ({ key, state }) => ...);   // connecting | open | reconnecting | closed
 *   off();                                     // or ws.unsubscribe("notifications-42")
 *
 * One socket per stream (`notifications-<userId>`, `feed-<userId>`,
 * `trending`, `engagement-<tweetId>`), shared by every handler subscribed
 * to it and closed when the last one leaves.
 *
 * Reliability, as shared/PROTOCOL.md asks of a client:
 * - Reconnect after an unexpected close with exponential backoff (3, 6, 12,
 *   24, 48 s, then give up), each delay jittered so that a restarted server
 *   is not hit by every client in the same instant. A successful connection
 *   resets the count, and when one stream gets back through, the others
 *   waiting to retry go at once. Close codes 4401/4403/4404 mean "retrying
 *   cannot help" and stop it. The browser's `online` event retries at once.
 * - A stream is `open` at the server's answer to the ping sent on connect,
 *   not at the handshake: the server accepts before it has joined the
 *   stream, and only from its answer on is nothing published missed.
 * - Heartbeat: a ping every 30 s; a socket that does not answer within the
 *   pong deadline is half-open (a dead NAT entry, a sleeping laptop) and is
 *   replaced, since the browser may take minutes to notice by itself.
 * - Resume: the newest notification id and feed tweet id seen are sent back
 *   as `?since=` on every reconnect, so the server replays what was missed.
 *
 * Authentication: a browser's session cookie goes with every handshake by
 * itself. Other clients pass `getTicket` (a fresh single-use ticket per
 * connection attempt, `?ticket=`; see `ticketFromApi`) or `token` (`?token=`).
 */

import type { ConnectionStats, ServerMessage } from "./types";

export type * from "./types";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export type MessageHandler<M extends ServerMessage = ServerMessage> = (message: M) => void;

/** Returned by every subscribe call: removes that one handler. */
export type Unsubscribe = () => void;

export interface StateChange {
  /** The stream, e.g. `notifications-42`. */
  key: string;
  state: ConnectionState;
  /** Reconnection attempts made since the last successful connection. */
  attempt: number;
  /** For `reconnecting`: milliseconds until the next attempt. */
  delayMs?: number;
  /** For `reconnecting`: when the next attempt starts (ms since epoch). */
  retryAt?: number;
  /** The close code that caused this change, when there was one. */
  code?: number;
  reason?: string;
  /** For `closed`: why the client stopped. */
  closedBy?: "client" | "server" | "gave-up";
}

export type StateListener = (change: StateChange) => void;

/** The subset of the DOM WebSocket this client uses (a fake can implement it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** REST API token, sent as `?token=`; browsers normally rely on the session cookie. */
  token?: string;
  /**
   * Return a fresh single-use ticket (POST /api/auth/ws-ticket/) for each
   * connection attempt, sent as `?ticket=` instead of a long-lived token in
   * the URL. See `ticketFromApi`. Takes precedence over `token`.
   */
  getTicket?: () => Promise<string>;
  /** First reconnection delay (ms). Default 3000. */
  reconnectBaseDelayMs?: number;
  /** Each further delay is the previous times this. Default 2. */
  reconnectFactor?: number;
  /** Attempts before giving up; 0 never reconnects. Default 5. */
  maxReconnectAttempts?: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2; 0 disables. */
  jitter?: number;
  /** Ping interval (ms); 0 disables the heartbeat. Default 30000. */
  heartbeatIntervalMs?: number;
  /** How long a ping may go unanswered before the socket is declared dead (ms). Default 10000. */
  pongTimeoutMs?: number;
  /** WebSocket implementation; defaults to the global one. */
  WebSocket?: WebSocketFactory;
  /** fetch implementation for `getStats`; defaults to the global one. */
  fetch?: typeof fetch;
  /** Source of randomness for the jitter, in [0, 1). */
  random?: () => number;
  /** Where `online` events come from; defaults to `window` in a browser. `null` disables. */
  onlineTarget?: Pick<EventTarget, "addEventListener" | "removeEventListener"> | null;
}

export interface SubscribeOptions {
  /** Resume point: only items newer than this id are wanted (notifications, feed). */
  since?: string;
}

/** Close codes after which retrying cannot help (PROTOCOL.md). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404]);

/** Thrown by a `getTicket` that was refused: a 401/403 ends the stream like close code 4401. */
export class TicketError extends Error {
  constructor(readonly status: number) {
    super(`POST /api/auth/ws-ticket/ answered ${status}`);
  }
}

/**
 * A `getTicket` for non-browser clients: each call POSTs /api/auth/ws-ticket/
 * with `Authorization: Token <token>` and returns the ticket.
 */
export function ticketFromApi(
  baseUrl: string,
  token: string,
  fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args),
): () => Promise<string> {
  const url = `${toHttpBase(baseUrl)}/api/auth/ws-ticket/`;
  return async () => {
    const response = await fetchImpl(url, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, Accept: "application/json" },
    });
    if (!response.ok) throw new TicketError(response.status);
    const body = (await response.json()) as { ticket?: unknown };
    if (typeof body.ticket !== "string") throw new TicketError(response.status);
    return body.ticket;
  };
}

/** The close code this client uses for a socket it declared dead. */
export const HEARTBEAT_TIMEOUT_CODE = 4000;

const OPEN = 1;
const CONNECTING = 0;
const PING = JSON.stringify({ type: "ping" });

const DEFAULTS = {
  reconnectBaseDelayMs: 3000,
  reconnectFactor: 2,
  maxReconnectAttempts: 5,
  jitter: 0.2,
  heartbeatIntervalMs: 30000,
  pongTimeoutMs: 10000,
};

type ResolvedOptions = typeof DEFAULTS & ClientOptions;

/**
 * Return true if id `a` is newer than id `b`. Ids are decimal strings,
 * compared as numbers without BigInt or precision loss.
 */
export function isNewerId(a: string, b: string | undefined | null): boolean {
  if (b === undefined || b === null || b === "") return true;
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b)) {
    const x = a.replace(/^0+(?=\d)/, "");
    const y = b.replace(/^0+(?=\d)/, "");
    return x.length !== y.length ? x.length > y.length : x > y;
  }
  return a !== b;
}

/** The delay (ms) before reconnection attempt `attempt` (0-based), before jitter. */
export function backoffDelay(attempt: number, baseMs: number, factor: number): number {
  return baseMs * Math.pow(factor, attempt);
}

/** Turn `http(s)://host[/prefix]` (or `ws(s)://...`) into the WebSocket origin + prefix. */
export function toWebSocketBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  if (/^wss?:\/\//i.test(trimmed)) return trimmed;
  if (/^https:\/\//i.test(trimmed)) return "wss://" + trimmed.slice("https://".length);
  if (/^http:\/\//i.test(trimmed)) return "ws://" + trimmed.slice("http://".length);
  throw new Error(`baseUrl must start with http(s):// or ws(s)://, got ${JSON.stringify(baseUrl)}`);
}

function toHttpBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  if (/^wss:\/\//i.test(trimmed)) return "https://" + trimmed.slice("wss://".length);
  if (/^ws:\/\//i.test(trimmed)) return "http://" + trimmed.slice("ws://".length);
  return trimmed;
}

function defaultBaseUrl(): string {
  const location = (globalThis as { location?: Location }).location;
  if (!location) throw new Error("baseUrl is required outside a browser");
  return location.origin;
}

/** Extracts the resume id (newest item id) from a message of a resumable stream. */
type CursorOf = (message: ServerMessage) => string | undefined;

const notificationCursor: CursorOf = (message) =>
  message.type === "notification" ? message.data?.notification_id : undefined;

const feedCursor: CursorOf = (message) => {
  if (message.type !== "feed_update" || !Array.isArray(message.data?.tweets)) return undefined;
  let newest: string | undefined;
  for (const tweet of message.data.tweets) {
    if (tweet?.tweet_id && isNewerId(tweet.tweet_id, newest)) newest = tweet.tweet_id;
  }
  return newest;
};

interface StreamSpec {
  key: string;
  path: string;
  cursorOf?: CursorOf;
}

/** One stream's socket, its handlers, and its reconnection and heartbeat timers. */
class Stream {
  readonly handlers = new Set<MessageHandler>();
  state: ConnectionState = "closed";
  attempt = 0;
  private socket: WebSocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Bumped by each attempt, so a late ticket of an abandoned attempt is ignored. */
  private generation = 0;
  /** Closed with a fatal code: retrying cannot help. */
  private refused = false;
  /** The last state change, for late listeners. */
  last: StateChange;

  constructor(
    readonly spec: StreamSpec,
    private readonly client: RecommendationEngineWebSocket,
    private readonly options: ResolvedOptions,
  ) {
    this.last = { key: spec.key, state: "closed", attempt: 0 };
  }

  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN && this.state === "open";
  }

  /** Waiting to retry, or gave up; not refused by the server, not stopped by this client. */
  get canRetry(): boolean {
    return !this.stopped && !this.refused && (this.state === "reconnecting" || this.state === "closed");
  }

  connect(): void {
    this.clearReconnect();
    if (this.stopped) return;
    this.setState({ state: "connecting" });
    const getTicket = this.options.getTicket;
    if (!getTicket) {
      this.open(this.client.streamUrl(this.spec));
      return;
    }
    const generation = ++this.generation;
    getTicket().then(
      (ticket) => {
        if (generation !== this.generation || this.stopped) return;
        this.open(this.client.streamUrl(this.spec, ticket));
      },
      (error: unknown) => {
        if (generation !== this.generation || this.stopped) return;
        const status = error instanceof TicketError ? error.status : 0;
        // Refused credentials cannot get better by retrying; anything else (network, 5xx, 429) can.
        this.handleClose(status === 401 || status === 403 ? 4401 : 1006, String(error));
      },
    );
  }

  private open(url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new (this.client.WebSocketImpl)(url);
    } catch (error) {
      // A malformed URL or a blocked port: treat like a failed connection.
      this.socket = null;
      this.handleClose(1006, String(error));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      // The server accepts the handshake before it has checked access and
      // joined the stream's groups; what is published in between does not
      // reach this socket. It answers this ping only after joining, so the
      // stream is "open" (live) at its first frame, not here.
      try {
        socket.send(PING);
      } catch {
        return; // closing already: its close event decides
      }
      this.armPongDeadline();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.receive(event.data);
    };
    socket.onerror = () => {
      // A close event always follows; it decides what to do.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handleClose(event.code, event.reason);
    };
  }

  /** Close for good (unsubscribe): no reconnection. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.clearReconnect();
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      safeClose(socket, 1000, "unsubscribed");
    }
    this.setState({ state: "closed", closedBy: "client" });
  }

  /** Retry now, with a fresh attempt count (browser back online, or a user's "retry"). */
  retryNow(): void {
    if (!this.canRetry) return;
    this.generation++;
    this.attempt = 0;
    this.connect();
  }

  send(text: string): boolean {
    if (!this.isOpen || !this.socket) return false;
    try {
      this.socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** The server's first frame: the stream is subscribed, and live. */
  private subscribed(): void {
    const reconnected = this.attempt > 0;
    this.attempt = 0;
    this.setState({ state: "open" });
    this.startHeartbeat();
    if (reconnected) this.client.serverIsBack(this.spec.key);
  }

  private receive(raw: unknown): void {
    // Any frame proves the connection is alive, not only a pong.
    this.clearPongDeadline();
    if (this.state !== "open") this.subscribed();
    if (typeof raw !== "string") return;
    let message: ServerMessage | { type: "pong" };
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (!message || typeof message !== "object" || typeof message.type !== "string") return;
    if (message.type === "pong") return;
    const cursor = this.spec.cursorOf?.(message as ServerMessage);
    if (cursor) this.client.setResumeId(this.spec.key, cursor);
    for (const handler of [...this.handlers]) {
      try {
        handler(message as ServerMessage);
      } catch (error) {
        // One broken handler must not starve the others or kill the socket.
        console.error(`handler for ${this.spec.key} failed`, error);
      }
    }
  }

  private handleClose(code: number, reason: string): void {
    this.stopHeartbeat();
    if (this.stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.refused = true;
      this.setState({ state: "closed", closedBy: "server", code, reason });
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code?: number, reason?: string): void {
    const { maxReconnectAttempts, reconnectBaseDelayMs, reconnectFactor, jitter } = this.options;
    if (this.attempt >= maxReconnectAttempts) {
      this.setState({ state: "closed", closedBy: "gave-up", code, reason });
      return;
    }
    let delay = backoffDelay(this.attempt, reconnectBaseDelayMs, reconnectFactor);
    if (jitter > 0) delay *= 1 - jitter + 2 * jitter * this.client.random();
    delay = Math.max(0, Math.round(delay));
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.setState({ state: "reconnecting", delayMs: delay, retryAt, code, reason });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const { heartbeatIntervalMs } = this.options;
    if (heartbeatIntervalMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (this.send(PING)) this.armPongDeadline();
    }, heartbeatIntervalMs);
  }

  private armPongDeadline(): void {
    if (this.pongTimer === null) {
      this.pongTimer = setTimeout(() => this.declareDead(), this.options.pongTimeoutMs);
    }
  }

  private declareDead(): void {
    this.pongTimer = null;
    const socket = this.socket;
    if (!socket) return;
    // Forget the socket before closing it: a half-open connection may never
    // deliver its close event, and must not be able to act later.
    this.socket = null;
    detach(socket);
    safeClose(socket, HEARTBEAT_TIMEOUT_CODE, "no pong");
    this.stopHeartbeat();
    this.scheduleReconnect(HEARTBEAT_TIMEOUT_CODE, "no pong");
  }

  private clearPongDeadline(): void {
    if (this.pongTimer !== null) {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
    }
    this.clearPongDeadline();
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
  }

  private setState(change: Omit<StateChange, "key" | "attempt">): void {
    this.state = change.state;
    this.last = { key: this.spec.key, attempt: this.attempt, ...change };
    this.client.emitState(this.last);
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onerror = null;
  socket.onclose = null;
}

function safeClose(socket: WebSocketLike, code: number, reason: string): void {
  try {
    if (socket.readyState === OPEN || socket.readyState === CONNECTING) socket.close(code, reason);
  } catch {
    // Already closing, or the implementation refuses the code: nothing to do.
  }
}

type StateEvent = "state" | ConnectionState;

export class RecommendationEngineWebSocket {
  readonly wsBase: string;
  readonly httpBase: string;
  readonly WebSocketImpl: WebSocketFactory;
  readonly random: () => number;
  private readonly options: ResolvedOptions;
  private readonly streams = new Map<string, Stream>();
  /** Resume ids outlive their stream, so a resubscription resumes too. */
  private readonly resumeIds = new Map<string, string>();
  private readonly listeners = new Map<StateEvent, Set<StateListener>>();
  private readonly onlineTarget: ClientOptions["onlineTarget"];
  private onlineListening = false;

  constructor(baseUrl?: string, options: ClientOptions = {}) {
    const base = baseUrl || defaultBaseUrl();
    this.wsBase = toWebSocketBase(base);
    this.httpBase = toHttpBase(base);
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined),
    ) as ClientOptions;
    this.options = { ...DEFAULTS, ...defined };
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!impl) throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.WebSocketImpl = impl;
    this.random = options.random ?? Math.random;
    this.onlineTarget =
      options.onlineTarget !== undefined
        ? options.onlineTarget
        : typeof window !== "undefined"
          ? window
          : null;
  }

  // --- Subscriptions -------------------------------------------------------

  /** Notifications of user `userId` (only that user may connect). */
  subscribeToNotifications(
    userId: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    const key = `notifications-${userId}`;
    if (options.since) this.setResumeId(key, options.since);
    return this.subscribe(
      { key, path: `/ws/notifications/${encodeURIComponent(userId)}`, cursorOf: notificationCursor },
      handler,
    );
  }

  /** The trending topics: a snapshot at once, then each change. */
  subscribeToTrending(handler: MessageHandler): Unsubscribe {
    return this.subscribe({ key: "trending", path: "/ws/trending" }, handler);
  }

  /** New tweets by the authors `userId` follows (only that user may connect). */
  subscribeToFeed(userId: string, handler: MessageHandler, options: SubscribeOptions = {}): Unsubscribe {
    const key = `feed-${userId}`;
    if (options.since) this.setResumeId(key, options.since);
    return this.subscribe(
      { key, path: `/ws/feed/${encodeURIComponent(userId)}`, cursorOf: feedCursor },
      handler,
    );
  }

  /** Live counters of tweet `tweetId` (a snapshot at once) and who is typing a reply. */
  subscribeToEngagement(tweetId: string, handler: MessageHandler): Unsubscribe {
    return this.subscribe(
      { key: `engagement-${tweetId}`, path: `/ws/engagement/${encodeURIComponent(tweetId)}` },
      handler,
    );
  }

  /** Close stream `key` (e.g. `notifications-42`) and drop all its handlers. */
  unsubscribe(key: string): void {
    const stream = this.streams.get(key);
    if (!stream) return;
    this.streams.delete(key);
    stream.handlers.clear();
    stream.stop();
    this.updateOnlineListener();
  }

  /** Close every stream. */
  unsubscribeAll(): void {
    for (const key of [...this.streams.keys()]) this.unsubscribe(key);
  }

  /** Keys of the open or opening streams. */
  keys(): string[] {
    return [...this.streams.keys()];
  }

  // --- Client to server ----------------------------------------------------

  /** Tell the other watchers of `tweetId` that this user is (not) typing a reply.
   * Needs an open engagement subscription to that tweet; returns whether it was sent. */
  sendTyping(tweetId: string, isTyping: boolean): boolean {
    return this.send(`engagement-${tweetId}`, { type: "typing", is_typing: isTyping });
  }

  /** Send a JSON message on stream `key`; returns false when it is not open. */
  send(key: string, message: object): boolean {
    return this.streams.get(key)?.send(JSON.stringify(message)) ?? false;
  }

  // --- State ---------------------------------------------------------------

  /** Listen to state changes: `"state"` for all, or one state's name. Returns an unsubscribe. */
  on(event: StateEvent, listener: StateListener): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** The state of stream `key`, or undefined when not subscribed. */
  getState(key: string): ConnectionState | undefined {
    return this.streams.get(key)?.state;
  }

  /** The last state change of every subscribed stream. */
  getStates(): StateChange[] {
    return [...this.streams.values()].map((stream) => stream.last);
  }

  /** Retry every stream that gave up or is waiting to retry, at once. */
  reconnectNow(): void {
    for (const stream of this.streams.values()) stream.retryNow();
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

  // --- Internals (used by Stream) ------------------------------------------

  /** @internal */
  streamUrl(spec: StreamSpec, ticket?: string): string {
    const params = new URLSearchParams();
    if (ticket) params.set("ticket", ticket);
    else if (this.options.token) params.set("token", this.options.token);
    const since = spec.cursorOf ? this.resumeIds.get(spec.key) : undefined;
    if (since) params.set("since", since);
    const query = params.toString();
    return `${this.wsBase}${spec.path}${query ? `?${query}` : ""}`;
  }

  /**
   * @internal One stream got through after failing: the server is back, so
   * the others waiting out their backoff retry now rather than up to a
   * minute later. Not those refused for load (4429): they keep their pace.
   */
  serverIsBack(fromKey: string): void {
    for (const stream of this.streams.values()) {
      if (stream.spec.key !== fromKey && stream.state === "reconnecting" && stream.last.code !== 4429) {
        stream.retryNow();
      }
    }
  }

  /** @internal */
  emitState(change: StateChange): void {
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

  private subscribe(spec: StreamSpec, handler: MessageHandler): Unsubscribe {
    let stream = this.streams.get(spec.key);
    if (!stream) {
      stream = new Stream(spec, this, this.options);
      this.streams.set(spec.key, stream);
      this.updateOnlineListener();
      stream.handlers.add(handler);
      stream.connect();
    } else {
      stream.handlers.add(handler);
    }
    const subscribed = stream;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      subscribed.handlers.delete(handler);
      if (subscribed.handlers.size === 0 && this.streams.get(spec.key) === subscribed) {
        this.unsubscribe(spec.key);
      }
    };
  }

  private readonly handleOnline = (): void => {
    this.reconnectNow();
  };

  private updateOnlineListener(): void {
    const target = this.onlineTarget;
    if (!target) return;
    const wanted = this.streams.size > 0;
    if (wanted && !this.onlineListening) {
      target.addEventListener("online", this.handleOnline);
      this.onlineListening = true;
    } else if (!wanted && this.onlineListening) {
      target.removeEventListener("online", this.handleOnline);
      this.onlineListening = false;
    }
  }
}

export default RecommendationEngineWebSocket;
