/**
 * `multiplex: false`: one socket per stream on the single-stream endpoints
 * (`/ws/notifications/<id>`, ...), as the seed's client did.
 *
 * A stream is `open` at the server's answer to the ping sent on connect,
 * not at the handshake: the server accepts before it has joined the
 * stream, and only from its answer on is nothing published missed.
 */

import {
  deliver,
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
  type ConnectionState,
  type HandlerEntry,
  type ResolvedOptions,
  type StateChange,
  type StreamHandle,
  type StreamHost,
  type StreamSpec,
  type WebSocketLike,
} from "./shared";

/** One stream's socket, its handlers, and its reconnection and heartbeat timers. */
export class SingleStream implements StreamHandle {
  readonly handlers = new Set<HandlerEntry>();
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
  /** The delay a restarting server asked for, for the reconnect that follows. */
  private drainAfterMs: number | undefined;
  /** The last state change, for late listeners. */
  last: StateChange;

  constructor(
    readonly spec: StreamSpec,
    private readonly host: StreamHost,
    private readonly options: ResolvedOptions,
    /** Called when this stream got through after failing: the server is back. */
    private readonly onBack: (key: string) => void,
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
      this.open(this.url());
      return;
    }
    const generation = ++this.generation;
    getTicket().then(
      (ticket) => {
        if (generation !== this.generation || this.stopped) return;
        this.open(this.url(ticket));
      },
      (error: unknown) => {
        if (generation !== this.generation || this.stopped) return;
        this.handleClose(ticketFailureCode(error), String(error));
      },
    );
  }

  private url(ticket?: string): string {
    const since = this.spec.cursorOf ? this.host.getResumeId(this.spec.key) : undefined;
    return this.host.url(this.spec.path, ticket, { since });
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
      // The server answers this ping only after joining the stream's groups.
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

  retryNow(): void {
    if (!this.canRetry) return;
    this.generation++;
    this.attempt = 0;
    this.connect();
  }

  send(message: { type: string } & Record<string, unknown>): boolean {
    if (!this.isOpen || !this.socket) return false;
    try {
      this.socket.send(JSON.stringify(message));
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
    if (reconnected) this.onBack(this.spec.key);
  }

  private receive(raw: unknown): void {
    // Any frame proves the connection is alive, not only a pong.
    this.clearPongDeadline();
    if (this.state !== "open") this.subscribed();
    const frame = parseFrame(raw);
    if (!frame || frame.type === "pong") return;
    const afterMs = drainDelay(frame);
    if (afterMs !== undefined) {
      this.drainAfterMs = afterMs;
      return;
    }
    deliver(this.host, this.spec, this.handlers, frame);
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
    if (this.attempt >= this.options.maxReconnectAttempts) {
      this.setState({ state: "closed", closedBy: "gave-up", code, reason });
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
    this.setState({ state: "reconnecting", delayMs: delay, retryAt, code, reason });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const { heartbeatIntervalMs } = this.options;
    if (heartbeatIntervalMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (this.isOpen && this.socket) {
        try {
          this.socket.send(PING);
        } catch {
          return;
        }
        this.armPongDeadline();
      }
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
    this.host.emitState(this.last);
  }
}
