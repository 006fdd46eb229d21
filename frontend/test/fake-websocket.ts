/**
 * A scriptable WebSocket for tests: every instance is recorded, and the test
 * decides when it opens, what it receives and how it closes.
 */

import type { WebSocketLike } from "../lib/websocket-client";

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = FakeWebSocket.CONNECTING;
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static last(): FakeWebSocket {
    const socket = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!socket) throw new Error("no socket was created");
    return socket;
  }

  /** Sockets whose URL path starts with `path` (e.g. "/ws/trending"). */
  static for(path: string): FakeWebSocket[] {
    return FakeWebSocket.instances.filter((s) => new URL(s.url).pathname.startsWith(path));
  }

  /** The sockets opened on the multiplexed endpoint `/ws/`. */
  static multiplexed(): FakeWebSocket[] {
    return FakeWebSocket.instances.filter((s) => new URL(s.url).pathname === "/ws/");
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  // --- What a client calls ---
  send(data: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("send on a socket that is not open");
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSING;
  }

  // --- What the test (the "server") does ---
  /** The handshake completes; the server has not answered anything yet. */
  serverAccept(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  /** The handshake completes and the server, subscribed, answers the
   * client's first ping. `sent` then holds what the client sent after that. */
  serverOpen(): void {
    this.serverAccept();
    if (this.sent[0] !== JSON.stringify({ type: "ping" })) throw new Error("no ping on open");
    this.sent.shift();
    this.serverSend({ type: "pong", timestamp: "2026-01-25T10:30:00Z" });
  }

  serverSend(message: unknown): void {
    this.onmessage?.({ data: typeof message === "string" ? message : JSON.stringify(message) });
  }

  serverClose(code = 1006, reason = ""): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }

  /** The connection attempt fails before opening (server down). */
  fail(): void {
    this.onerror?.({});
    this.serverClose(1006);
  }

  /** The JSON messages this socket sent, parsed. */
  sentJson(): unknown[] {
    return this.sent.map((text) => JSON.parse(text));
  }

  /** The messages of `type` this socket sent, parsed. */
  sentOfType(type: string): Array<Record<string, unknown>> {
    return (this.sentJson() as Array<Record<string, unknown>>).filter((m) => m.type === type);
  }

  // --- The server of `/ws/` ---
  /** The handshake completes and the server says welcome. */
  serverWelcome(userId: string | null = "42", maxSubscriptions = 100): void {
    this.serverAccept();
    this.serverSend(envelope("welcome", { user_id: userId, max_subscriptions: maxSubscriptions }));
  }

  /** The stream names of the subscribes sent so far, in order. */
  subscribes(): string[] {
    return this.sentOfType("subscribe").map((m) => m.stream as string);
  }

  /** The server has joined `stream`. */
  serverSubscribed(stream: string): void {
    this.serverSend({ ...envelope("subscribed", {}), stream });
  }

  /** Answer every subscribe sent so far with `subscribed`. */
  serverSubscribeAll(): void {
    for (const stream of this.subscribes().slice(this.answered)) this.serverSubscribed(stream);
    this.answered = this.subscribes().length;
  }

  private answered = 0;

  /** A message of `stream`, as `/ws/` sends it. */
  serverStream(stream: string, type: string, data: unknown): void {
    this.serverSend(streamEnvelope(stream, type, data));
  }
}

export function streamEnvelope(stream: string, type: string, data: unknown) {
  return { ...envelope(type, data), stream };
}

/** A minimal EventTarget standing in for `window` (online events). */
export class FakeWindow {
  private listeners = new Map<string, Set<() => void>>();

  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    if (typeof listener !== "function") return;
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener as () => void);
  }

  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    this.listeners.get(type)?.delete(listener as () => void);
  }

  dispatch(type: string): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener();
  }

  count(type: string): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}

export function envelope(type: string, data: unknown) {
  return { type, timestamp: "2026-01-25T10:30:00Z", data };
}
