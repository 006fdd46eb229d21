/**
 * The streams a client holds on its one `/ws/` connection. Each
 * subscription has its own state (`open` at its `subscribed`, `closed` by
 * the server at a fatal `subscribe_error`), its own retry schedule for a
 * refusal under load (4429), and its own resume point, sent as `since`
 * every time it subscribes.
 */

import { Connection, type ConnectionChange, type ConnectionEvents } from "./connection";
import { serverError, StreamHandlers } from "./handlers";
import {
  FATAL_CLOSE_CODES,
  refusalOf,
  retryDelay,
  type Frame,
  type ResolvedOptions,
  type StateChange,
  type StreamHost,
  type StreamSpec,
} from "./shared";

export class Subscription extends StreamHandlers {
  /** Subscribe attempts refused or ended by the server since the last `subscribed`. */
  attempt = 0;
  /** Refused with 4401/4403/4404: subscribing again cannot help. */
  refused = false;
  /** A subscribe for it went out on the current connection. */
  sent = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    spec: StreamSpec,
    private readonly mux: Multiplexer,
  ) {
    super(spec, mux.host);
  }

  get waiting(): boolean {
    return this.retryTimer !== null;
  }

  stop(): void {
    this.mux.remove(this);
  }

  retryNow(): void {
    if (this.refused || (this.state !== "reconnecting" && this.state !== "closed")) return;
    if (!this.mux.connection.isOpen) return; // the connection's own retry resubscribes it
    this.attempt = 0;
    this.subscribe();
  }

  send(message: { type: string } & Record<string, unknown>): boolean {
    if (this.state !== "open") return false;
    const { type, ...fields } = message;
    return this.mux.connection.send({ type, stream: this.spec.stream, ...fields });
  }

  /**
   * Ask the server for this stream, resuming from the newest id seen.
   * `attempt` is reported until the `subscribed`: the connection's own
   * count after it reconnected, so the stream still reads "reconnecting".
   */
  subscribe(attempt = this.attempt): void {
    this.clearRetry();
    const since = this.spec.cursorOf ? this.mux.host.getResumeId(this.spec.key) : undefined;
    const message: Record<string, string> = { type: "subscribe", stream: this.spec.stream };
    if (since) message.since = since;
    this.sent = this.mux.connection.send(message);
    this.setState({ state: "connecting" }, attempt);
  }

  /** Subscribe again after `delay` (a refusal under load, or the server ended it). */
  retryAfter(delay: number, code?: number, reason?: string): void {
    this.clearRetry();
    this.sent = false;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.mux.connection.isOpen) this.subscribe();
    }, delay);
    this.setState({ state: "reconnecting", delayMs: delay, retryAt: Date.now() + delay, code, reason });
  }

  clearRetry(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  setState(change: Omit<StateChange, "key" | "attempt">, attempt = this.attempt): void {
    this.report(change, attempt);
  }
}

/** Every subscription of one client, and the connection that carries them. */
export class Multiplexer implements ConnectionEvents {
  readonly connection: Connection;
  /** By stream name (`notifications/42`). */
  private readonly subscriptions = new Map<string, Subscription>();
  /**
   * Unsubscribes sent and not yet answered, per stream name: the answer to
   * one must not be taken for the server ending a subscription made again
   * since.
   */
  private readonly unanswered = new Map<string, number>();

  constructor(
    readonly host: StreamHost,
    private readonly options: ResolvedOptions,
  ) {
    this.connection = new Connection(host, options, this);
  }

  add(spec: StreamSpec): Subscription {
    const sub = new Subscription(spec, this);
    this.subscriptions.set(spec.stream, sub);
    const connection = this.connection;
    if (connection.isOpen) {
      sub.subscribe();
    } else if (connection.state === "idle" || connection.state === "closed") {
      connection.start();
    } else {
      // Connecting or waiting to retry: this stream waits with it.
      sub.setState(connection.lastChange, connection.lastChange.attempt);
    }
    return sub;
  }

  remove(sub: Subscription): void {
    if (this.subscriptions.get(sub.spec.stream) !== sub) return;
    this.subscriptions.delete(sub.spec.stream);
    sub.clearRetry();
    if (sub.sent && this.connection.send({ type: "unsubscribe", stream: sub.spec.stream })) {
      this.unanswered.set(sub.spec.stream, (this.unanswered.get(sub.spec.stream) ?? 0) + 1);
    }
    sub.sent = false;
    sub.refusal = undefined;
    sub.setState({ state: "closed", closedBy: "client" });
    if (this.subscriptions.size === 0) {
      // Nothing left to carry: a tab without streams holds no socket.
      this.connection.stop();
      this.unanswered.clear();
    }
  }

  /** Retry the connection if it is down, and every subscription waiting or given up. */
  retryNow(): void {
    this.connection.retryNow();
    if (!this.connection.isOpen) return;
    for (const sub of this.subscriptions.values()) {
      if (sub.waiting || (sub.state === "closed" && !sub.refused)) {
        sub.attempt = 0;
        sub.subscribe();
      }
    }
  }

  // --- ConnectionEvents ----------------------------------------------------

  connecting(change: ConnectionChange): void {
    this.unanswered.clear();
    for (const sub of this.subscriptions.values()) {
      if (sub.refused) continue;
      // A new connection gets a fresh answer: what the last one refused may pass now.
      sub.refusal = undefined;
      sub.setState(change, change.attempt);
    }
  }

  welcomed(): void {
    // Every stream, on every new connection: the server knows none of them.
    const attempt = this.connection.lastChange.attempt;
    for (const sub of this.subscriptions.values()) {
      if (!sub.refused) sub.subscribe(Math.max(sub.attempt, attempt));
    }
  }

  down(change: ConnectionChange): void {
    for (const sub of this.subscriptions.values()) {
      sub.clearRetry();
      sub.sent = false;
      if (sub.refused) continue;
      sub.refusal = undefined;
      sub.setState(change, change.attempt);
    }
  }

  frame(frame: Frame): void {
    const name = typeof frame.stream === "string" ? frame.stream : null;
    if (name === null) {
      if (frame.type === "error") this.host.emitServerError(serverError(frame, null));
      return;
    }
    if (frame.type === "unsubscribed" && this.takeAnswer(name)) return;
    const sub = this.subscriptions.get(name);
    // A stream not held (ended here, its last frames still on the way).
    if (!sub || sub.refused) return;
    switch (frame.type) {
      case "subscribed":
        this.subscribed(sub);
        return;
      case "subscribe_error":
        this.refusedOrRetry(sub, frame);
        return;
      case "unsubscribed":
        this.endedByServer(sub, frame);
        return;
      default:
        sub.deliver(frame);
    }
  }

  // --- Control frames --------------------------------------------------------

  private takeAnswer(name: string): boolean {
    const count = this.unanswered.get(name) ?? 0;
    if (count === 0) return false;
    if (count === 1) this.unanswered.delete(name);
    else this.unanswered.set(name, count - 1);
    return true;
  }

  private subscribed(sub: Subscription): void {
    // Subscribing again to a held stream is answered again: nothing new.
    if (sub.state === "open") return;
    sub.attempt = 0;
    sub.refusal = undefined;
    sub.setState({ state: "open" });
  }

  private refusedOrRetry(sub: Subscription, frame: Frame): void {
    const { code, reason } = codeOf(frame);
    sub.sent = false;
    sub.refusal = refusalOf(code, reason);
    if (code !== undefined && FATAL_CLOSE_CODES.has(code)) {
      sub.refused = true;
      sub.setState({ state: "closed", closedBy: "server", code, reason });
      return;
    }
    // 4429 (too many subscriptions, or too fast) and anything unknown: later.
    if (sub.attempt >= this.options.maxReconnectAttempts) {
      sub.setState({ state: "closed", closedBy: "gave-up", code, reason });
      return;
    }
    const delay = retryDelay(sub.attempt, this.options, this.host.random);
    sub.attempt += 1;
    sub.retryAfter(delay, code, reason);
  }

  private endedByServer(sub: Subscription, frame: Frame): void {
    // The server ends a subscription when it may have dropped its live
    // messages (4429): subscribing again with `since` replays them.
    const { code, reason } = codeOf(frame);
    sub.refusal = refusalOf(code, reason);
    const { resubscribeDelayMs, jitter } = this.options;
    const delay = Math.round(resubscribeDelayMs * (1 + jitter * this.host.random()));
    sub.retryAfter(delay, code, reason);
  }
}

function codeOf(frame: Frame): { code?: number; reason?: string } {
  const data = (frame.data ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof data.code === "number" ? data.code : undefined,
    reason: typeof data.message === "string" ? data.message : undefined,
  };
}
