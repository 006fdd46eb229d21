/**
 * One WebSocket kept open: opening it (with a fresh ticket per attempt),
 * the heartbeat, and reconnecting with backoff after it drops. Both
 * transports use it: the `/ws/` connection (connection.ts) and each socket
 * of `multiplex: false` (single-stream.ts). What travels on the socket, and
 * when it counts as live, is its owner's business: the owner calls
 * `markOpen()` at the frame that says so.
 */

import {
  detach,
  drainDelay,
  FATAL_CLOSE_CODES,
  HEARTBEAT_TIMEOUT_CODE,
  OPEN,
  parseFrame,
  PING,
  refusalOf,
  RESTART_CLOSE_CODES,
  retryDelay,
  safeClose,
  ticketFailureCode,
  type Frame,
  type Refusal,
  type ResolvedOptions,
  type StateChange,
  type StreamHost,
  type WebSocketLike,
} from "./shared";

/** `idle`: not started, or stopped by its owner. */
export type SocketState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** A state change of the socket, before its owner names the stream. */
export type SocketChange = Omit<StateChange, "key">;

export interface SocketOwner {
  /** The URL of the next attempt (`ticket`: the one fetched for it). */
  url(ticket?: string): string;
  /** Any frame arrived, before it is parsed. */
  arrived?(): void;
  /** A frame other than `pong` and `reconnect`. */
  frame(frame: Frame): void;
  /** An attempt starts (`connecting`), or the socket is gone (`reconnecting` with a delay, or `closed`). */
  changed(change: SocketChange): void;
}

export class ReconnectingSocket {
  state: SocketState = "idle";
  /** Attempts made since the last time the owner marked the socket open. */
  attempt = 0;
  private socket: WebSocketLike | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by each attempt and by stop(), so a late ticket of an abandoned attempt is ignored. */
  private generation = 0;
  /** Closed with a fatal code: retrying cannot help. */
  private refused = false;
  /** The delay a restarting server asked for, for the reconnect that follows. */
  private drainAfterMs: number | undefined;
  /** The server's refusal at the last close, reported until the socket opens. */
  private refusal: Refusal | undefined;
  /** The server said it is restarting: reported until the socket opens. */
  private restarting = false;
  /** The browser said the network is gone: reported until it is back or the socket opens. */
  private offline = false;
  /** The pending retry waits out a delay the server asked for: a retry now would defeat its spread. */
  private waitingForServer = false;
  /** The details of the last change, for reporting it again with `offline`. */
  private lastDetails: Partial<SocketChange> = {};

  constructor(
    private readonly host: StreamHost,
    private readonly options: ResolvedOptions,
    private readonly owner: SocketOwner,
    /** Sent as soon as the handshake completes (the single-stream endpoints' first ping). */
    private readonly greeting: string | null = null,
  ) {}

  get isOpen(): boolean {
    return this.state === "open" && this.socket !== null && this.socket.readyState === OPEN;
  }

  /** Waiting to retry, or gave up; not refused by the server, not stopped. */
  get canRetry(): boolean {
    return !this.refused && (this.state === "reconnecting" || this.state === "closed");
  }

  /** Connect unless already connected, connecting or waiting to retry.
   * After a refusal or giving up, this tries afresh. */
  start(): void {
    if (this.state !== "idle" && this.state !== "closed") return;
    this.refused = false;
    this.attempt = 0;
    this.connect();
  }

  /** Close for good: no reconnection until `start()`. */
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
    this.refused = false;
    this.refusal = undefined;
    this.restarting = false;
    this.offline = false;
  }

  /**
   * Retry now, with a fresh attempt count, if waiting to retry or given
   * up; not while waiting out the delay a restarting server asked for.
   */
  retryNow(): void {
    this.offline = false;
    if (!this.canRetry || this.waitingForServer) return;
    this.attempt = 0;
    this.connect();
  }

  /**
   * The browser says the network is gone: drop the socket at once (it may
   * look open for a long while, its peer unreachable) and say so. Retrying
   * goes on at the backoff's pace, and at once when the network is back.
   */
  goOffline(): void {
    if (this.state === "idle" || this.refused) return;
    this.offline = true;
    if (this.state === "reconnecting" || this.state === "closed") {
      this.change(this.state, this.lastDetails);
      return;
    }
    this.generation++;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      safeClose(socket, HEARTBEAT_TIMEOUT_CODE, "offline");
    }
    this.stopHeartbeat();
    this.refusal = undefined;
    this.scheduleReconnect(undefined, "offline");
  }

  /** The owner saw the frame that makes the socket live. Return whether it had failed before. */
  markOpen(): boolean {
    const reconnected = this.attempt > 0;
    this.attempt = 0;
    this.state = "open";
    this.refusal = undefined;
    this.restarting = false;
    this.offline = false;
    this.startHeartbeat();
    return reconnected;
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
      this.open(this.owner.url());
      return;
    }
    getTicket().then(
      (ticket) => {
        if (generation === this.generation) this.open(this.owner.url(ticket));
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
      this.socket = null;
      this.handleClose(1006, String(error));
      return;
    }
    this.socket = socket;
    this.drainAfterMs = undefined;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.greeting !== null) {
        try {
          socket.send(this.greeting);
        } catch {
          return; // closing already: its close event decides
        }
      }
      // The owner's first frame answers the handshake (a welcome, or the
      // greeting's answer); without one within the deadline the socket is
      // as good as dead.
      this.armPongDeadline();
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
    this.owner.arrived?.();
    const frame = parseFrame(raw);
    if (!frame || frame.type === "pong") return;
    const afterMs = drainDelay(frame);
    if (afterMs !== undefined) {
      this.drainAfterMs = afterMs;
      this.restarting = true;
      return;
    }
    this.owner.frame(frame);
  }

  private handleClose(code: number, reason: string): void {
    this.stopHeartbeat();
    this.refusal = refusalOf(code, reason);
    if (RESTART_CLOSE_CODES.has(code)) this.restarting = true;
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
    this.waitingForServer = this.drainAfterMs !== undefined;
    this.drainAfterMs = undefined;
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.change("reconnecting", { delayMs: delay, retryAt, code, reason });
  }

  private change(state: "connecting" | "reconnecting" | "closed", details: Partial<SocketChange>): void {
    this.state = state;
    this.lastDetails = details;
    const change: SocketChange = { ...details, state, attempt: this.attempt };
    if (this.refusal) change.refusal = this.refusal;
    if (this.restarting) change.restarting = true;
    if (this.offline) change.offline = true;
    this.owner.changed(change);
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
    this.refusal = undefined;
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
    this.waitingForServer = false;
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
  }
}
