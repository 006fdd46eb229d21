/**
 * What both transports of the client share: options, state changes, the
 * socket helpers, ids and resume cursors.
 */

import type { ErrorData, ServerMessage } from "../types";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export type MessageHandler<M = ServerMessage> = (message: M) => void;

/** Returned by every subscribe call: removes that one handler. */
export type Unsubscribe = () => void;

export interface StateChange {
  /** The stream, e.g. `notifications-42`. */
  key: string;
  state: ConnectionState;
  /** Reconnection (or resubscription) attempts made since the last success. */
  attempt: number;
  /** For `reconnecting`: milliseconds until the next attempt. */
  delayMs?: number;
  /** For `reconnecting`: when the next attempt starts (ms since epoch). */
  retryAt?: number;
  /** The close code (or `subscribe_error` / `unsubscribed` code) that caused this change. */
  code?: number;
  reason?: string;
  /** For `closed`: why the client stopped. */
  closedBy?: "client" | "server" | "gave-up";
  /**
   * Set while the server refuses this stream: for a limit (4429: too many
   * connections for this user, over `max_subscriptions`, subscribing too
   * fast) or for access (4401, 4403, 4404). Kept through the retries that
   * follow a 4429 until the stream opens, so a UI can say why it waits.
   */
  refusal?: Refusal;
  /** The server said it is restarting (a `reconnect` frame, or close 1012/1013); kept until the stream opens. */
  restarting?: boolean;
  /** The browser reported the network gone (`offline`); kept until it is back or the stream opens. */
  offline?: boolean;
}

/** Why the server refused a stream: its close (or `subscribe_error`) code and its message. */
export interface Refusal {
  code: number;
  message: string;
}

export type StateListener = (change: StateChange) => void;

/** An `error` frame from the server; `key` is the stream it was about, if any. */
export interface ServerError extends ErrorData {
  key: string | null;
}

export type ServerErrorListener = (error: ServerError) => void;

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
  /**
   * One WebSocket at `/ws/` carrying every stream (default), or, with
   * `false`, one socket per stream on the single-stream endpoints.
   */
  multiplex?: boolean;
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
  /** The longest delay the backoff grows to; it keeps retrying at this pace. Default 48000. */
  maxReconnectDelayMs?: number;
  /** Attempts before giving up; 0 never reconnects. Default Infinity: never give up. */
  maxReconnectAttempts?: number;
  /**
   * Each backoff delay is multiplied by a random factor in [1 - jitter, 1 + jitter];
   * a restarting server's `after_ms` gets up to `jitter` x the base delay added. Default 0.2; 0 disables.
   */
  jitter?: number;
  /**
   * On `/ws/`: how long to wait before subscribing again to a stream the
   * server ended by itself (`unsubscribed` with a code). Default 1000.
   */
  resubscribeDelayMs?: number;
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
  /** Where `online` and `offline` events come from; defaults to `window` in a browser. `null` disables. */
  onlineTarget?: Pick<EventTarget, "addEventListener" | "removeEventListener"> | null;
  /** Where `visibilitychange` events come from (a tab shown again retries at once); defaults to `document`. `null` disables. */
  visibilityTarget?: VisibilityTarget | null;
}

export interface VisibilityTarget extends Pick<EventTarget, "addEventListener" | "removeEventListener"> {
  readonly visibilityState?: string;
}

export interface SubscribeOptions {
  /** Resume point: only items newer than this id are wanted (notifications, feed). */
  since?: string;
}

export const DEFAULTS = {
  multiplex: true,
  reconnectBaseDelayMs: 3000,
  reconnectFactor: 2,
  maxReconnectDelayMs: 48000,
  maxReconnectAttempts: Infinity,
  jitter: 0.2,
  resubscribeDelayMs: 1000,
  heartbeatIntervalMs: 30000,
  pongTimeoutMs: 10000,
};

export type ResolvedOptions = typeof DEFAULTS & ClientOptions;

/** Close codes after which retrying cannot help (PROTOCOL.md). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404]);

/** Codes by which the server refuses a stream rather than failing (PROTOCOL.md). */
export const REFUSAL_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404, 4429]);

/** The refusal a close (or `subscribe_error`, `unsubscribed`) code and message stand for, if any. */
export function refusalOf(code: number | undefined, message: string | undefined): Refusal | undefined {
  return code !== undefined && REFUSAL_CODES.has(code) ? { code, message: message ?? "" } : undefined;
}

/** The close code this client uses for a socket it declared dead. */
export const HEARTBEAT_TIMEOUT_CODE = 4000;

export const OPEN = 1;
export const CONNECTING = 0;
export const PING = JSON.stringify({ type: "ping" });

/** Thrown by a `getTicket` that was refused: a 401/403 ends the stream like close code 4401. */
export class TicketError extends Error {
  constructor(readonly status: number) {
    super(`POST /api/auth/ws-ticket/ answered ${status}`);
  }
}

/** The close code a failed `getTicket` stands for: refused credentials cannot get better by retrying. */
export function ticketFailureCode(error: unknown): number {
  const status = error instanceof TicketError ? error.status : 0;
  return status === 401 || status === 403 ? 4401 : 1006;
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

/** The delay (ms) before reconnection attempt `attempt` (0-based), before jitter, at most `maxMs`. */
export function backoffDelay(attempt: number, baseMs: number, factor: number, maxMs = Infinity): number {
  return Math.min(baseMs * Math.pow(factor, attempt), maxMs);
}

/**
 * The delay before retry `attempt`, jittered. `afterMs` is a delay the
 * server asked for (`reconnect` before a restart): jitter only lengthens
 * it, since coming back earlier would find the process still stopping,
 * and by a bounded amount, since the server already spread its clients
 * over its drain and a long `after_ms` must not become a longer outage.
 */
export function retryDelay(
  attempt: number,
  options: ResolvedOptions,
  random: () => number,
  afterMs?: number,
): number {
  const { reconnectBaseDelayMs, reconnectFactor, maxReconnectDelayMs, jitter } = options;
  let delay: number;
  if (afterMs !== undefined) {
    delay = afterMs + (jitter > 0 ? jitter * reconnectBaseDelayMs * random() : 0);
  } else {
    delay = backoffDelay(attempt, reconnectBaseDelayMs, reconnectFactor, maxReconnectDelayMs);
    if (jitter > 0) delay *= 1 - jitter + 2 * jitter * random();
  }
  return Math.max(0, Math.round(delay));
}

/** Close codes of a server that is restarting or overloaded for a moment: reconnect (PROTOCOL.md). */
export const RESTART_CLOSE_CODES: ReadonlySet<number> = new Set([1012, 1013]);

/** Turn `http(s)://host[/prefix]` (or `ws(s)://...`) into the WebSocket origin + prefix. */
export function toWebSocketBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  if (/^wss?:\/\//i.test(trimmed)) return trimmed;
  if (/^https:\/\//i.test(trimmed)) return "wss://" + trimmed.slice("https://".length);
  if (/^http:\/\//i.test(trimmed)) return "ws://" + trimmed.slice("http://".length);
  throw new Error(`baseUrl must start with http(s):// or ws(s)://, got ${JSON.stringify(baseUrl)}`);
}

export function toHttpBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  if (/^wss:\/\//i.test(trimmed)) return "https://" + trimmed.slice("wss://".length);
  if (/^ws:\/\//i.test(trimmed)) return "http://" + trimmed.slice("ws://".length);
  return trimmed;
}

export function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onerror = null;
  socket.onclose = null;
}

export function safeClose(socket: WebSocketLike, code: number, reason: string): void {
  try {
    if (socket.readyState === OPEN || socket.readyState === CONNECTING) socket.close(code, reason);
  } catch {
    // Already closing, or the implementation refuses the code: nothing to do.
  }
}

/** A frame as the server sends it: `{type, ...}`, or null for anything else. */
export interface Frame {
  type: string;
  stream?: unknown;
  data?: unknown;
  [field: string]: unknown;
}

export function parseFrame(raw: unknown): Frame | null {
  if (typeof raw !== "string") return null;
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!message || typeof message !== "object") return null;
  return typeof (message as Frame).type === "string" ? (message as Frame) : null;
}

/** The `after_ms` of a `reconnect` frame (the server is restarting), if it is one. */
export function drainDelay(frame: Frame): number | undefined {
  if (frame.type !== "reconnect") return undefined;
  const afterMs = (frame.data as { after_ms?: unknown } | undefined)?.after_ms;
  return typeof afterMs === "number" && afterMs >= 0 ? afterMs : 0;
}

/** Extracts the resume id (newest item id) from a message of a resumable stream. */
export type CursorOf = (message: Frame) => string | undefined;

export const notificationCursor: CursorOf = (message) => {
  if (message.type !== "notification") return undefined;
  const id = (message.data as { notification_id?: unknown } | undefined)?.notification_id;
  return typeof id === "string" ? id : undefined;
};

export const feedCursor: CursorOf = (message) => {
  const tweets = (message.data as { tweets?: unknown } | undefined)?.tweets;
  if (message.type !== "feed_update" || !Array.isArray(tweets)) return undefined;
  let newest: string | undefined;
  for (const tweet of tweets as Array<{ tweet_id?: unknown } | null>) {
    const id = tweet?.tweet_id;
    if (typeof id === "string" && id && isNewerId(id, newest)) newest = id;
  }
  return newest;
};

export interface StreamSpec {
  /** The client's key: `notifications-42`. */
  key: string;
  /** The stream's name on `/ws/`: `notifications/42`. */
  stream: string;
  /** Its single-stream endpoint: `/ws/notifications/42`. */
  path: string;
  cursorOf?: CursorOf;
}

/** One subscribe call's handler, and the message kinds it takes. */
export interface HandlerEntry {
  kinds: ReadonlySet<string>;
  handler: MessageHandler<never>;
}

/** What a stream (a socket of its own, or a subscription on `/ws/`) needs of its client. */
export interface StreamHost {
  readonly WebSocketImpl: WebSocketFactory;
  readonly random: () => number;
  /** The URL of `path` with the credentials and `params`. */
  url(path: string, ticket?: string, params?: Record<string, string | undefined>): string;
  getResumeId(key: string): string | undefined;
  setResumeId(key: string, id: string): void;
  emitState(change: StateChange): void;
  emitServerError(error: ServerError): void;
}

/** What the client asks of a stream, whichever transport carries it. */
export interface StreamHandle {
  readonly spec: StreamSpec;
  readonly handlers: Set<HandlerEntry>;
  readonly state: ConnectionState;
  readonly last: StateChange;
  /** End for good (the last handler left): no retry. */
  stop(): void;
  /** Retry now if waiting to retry or given up (not if refused). */
  retryNow(): void;
  /** Send a JSON message on this stream; false when it is not open. */
  send(message: { type: string } & Record<string, unknown>): boolean;
}
