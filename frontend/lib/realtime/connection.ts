/**
 * The one socket of a client on `/ws/`: opening it (with a fresh ticket per
 * attempt), the heartbeat, and reconnecting with backoff. What travels on
 * it is the subscriptions' business (subscriptions.ts); this file only
 * tells them when the connection is up (`welcome`) and when it is down.
 */

import type { WelcomeData } from "../types";
import {
  detach,
  drainDelay,
  FATAL_CLOSE_CODES,
  HEARTBEAT_TIMEOUT_CODE,
  OPEN,
  parseFrame,
  PING,
  retryDelay,
  safeClose,
  ticketFailureCode,
  type Frame,
  type ResolvedOptions,
  type StateChange,
  type StreamHost,
  type WebSocketLike,
} from "./shared";

/** `idle`: no subscription wants a connection, so none is kept. */
export type MultiplexState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** A connection-wide state change, as each subscription reports it. */
export type ConnectionChange = Omit<StateChange, "key">;

export interface ConnectionEvents {
  /** An attempt starts. */
  connecting(change: ConnectionChange): void;
  /** The server's `welcome` arrived: it takes subscriptions now. */
  welcomed(): void;
  /** A frame other than `welcome`, `pong` and `reconnect`. */
  frame(frame: Frame): void;
  /** The socket is gone: `reconnecting` with a delay, or `closed`. */
  down(change: ConnectionChange): void;
}

export const MULTIPLEX_PATH = "/ws/";

export class Connection {
  state: MultiplexState = "idle";
  attempt = 0;
  welcome: WelcomeData | null = null;
  /** The last change while not open, for subscriptions made meanwhile. */
  lastChange: ConnectionChange = { state: "closed", attempt: 0 };
  private socket: WebSocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by each attempt and by stop(), so a late ticket or socket of an abandoned one is ignored. */
  private generation = 0;
  /** Closed with a fatal code: retrying cannot help. */
  private refused = false;
  private drainAfterMs: number | undefined;

  constructor(
    private readonly host: StreamHost,
    private readonly options: ResolvedOptions,
    private readonly events: ConnectionEvents,
  ) {}

  get isOpen(): boolean {
    return this.state === "open" && this.socket !== null && this.socket.readyState === OPEN;
  }

  /** Connect unless already connected, connecting or waiting to retry.
   * After a refusal or giving up, a new subscription tries afresh. */
  start(): void {
    if (this.state !== "idle" && this.state !== "closed") return;
    this.refused = false;
    this.attempt = 0;
    this.connect();
  }

  /** Close for good (no subscription left): no reconnection. */
  stop(): void {
    this.generation++;
    this.clearReconnect();
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      safeClose(socket, 1000, "unsubscribed");
    }
    this.state = "idle";
    this.attempt = 0;
    this.refused = false;
    this.welcome = null;
    this.lastChange = { state: "closed", attempt: 0 };
  }

  /** Retry now, with a fresh attempt count, if waiting to retry or given up. */
  retryNow(): void {
    if (this.refused || (this.state !== "reconnecting" && this.state !== "closed")) return;
    this.attempt = 0;
    this.connect();
  }

  send(message: object): boolean {
    if (!this.isOpen || !this.socket) return false;
    try {
      this.socket.send(JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    this.clearReconnect();
    const generation = ++this.generation;
    this.change("connecting", {});
    const getTicket = this.options.getTicket;
    if (!getTicket) {
      this.open(this.host.url(MULTIPLEX_PATH));
      return;
    }
    getTicket().then(
      (ticket) => {
        if (generation === this.generation) this.open(this.host.url(MULTIPLEX_PATH, ticket));
      },
      (error: unknown) => {
        if (generation === this.generation) this.handleClose(ticketFailureCode(error), String(error));
      },
    );
  }

  private open(url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new this.host.WebSocketImpl(url);
    } catch (error) {
      // A malformed URL or a blocked port: treat like a failed connection.
      this.handleClose(1006, String(error));
      return;
    }
    this.socket = socket;
    this.drainAfterMs = undefined;
    socket.onopen = () => {
      // The server's welcome is the first frame; without it within the
      // deadline the socket is as good as dead.
      if (this.socket === socket) this.armPongDeadline();
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
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

  private receive(raw: unknown): void {
    // Any frame proves the connection is alive, not only a pong.
    this.clearPongDeadline();
    const frame = parseFrame(raw);
    if (!frame || frame.type === "pong") return;
    if (frame.type === "welcome") {
      this.welcome = (frame.data ?? null) as WelcomeData | null;
      this.attempt = 0;
      this.state = "open";
      this.startHeartbeat();
      this.events.welcomed();
      return;
    }
    const afterMs = drainDelay(frame);
    if (afterMs !== undefined) {
      this.drainAfterMs = afterMs;
      return;
    }
    this.events.frame(frame);
  }

  private handleClose(code: number, reason: string): void {
    this.stopHeartbeat();
    this.welcome = null;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.refused = true;
      this.change("closed", { closedBy: "server", code, reason });
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code?: number, reason?: string): void {
    if (this.attempt >= this.options.maxReconnectAttempts) {
      this.change("closed", { closedBy: "gave-up", code, reason });
      return;
    }
    const delay = retryDelay(this.attempt, this.options, this.host.random, this.drainAfterMs);
    this.drainAfterMs = undefined;
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.change("reconnecting", { delayMs: delay, retryAt, code, reason });
  }

  private change(state: "connecting" | "reconnecting" | "closed", details: Partial<ConnectionChange>): void {
    this.state = state;
    this.lastChange = { ...details, state, attempt: this.attempt };
    if (state === "connecting") this.events.connecting(this.lastChange);
    else this.events.down(this.lastChange);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const { heartbeatIntervalMs } = this.options;
    if (heartbeatIntervalMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (!this.isOpen || !this.socket) return;
      try {
        this.socket.send(PING);
      } catch {
        return;
      }
      this.armPongDeadline();
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
    this.welcome = null;
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
}
