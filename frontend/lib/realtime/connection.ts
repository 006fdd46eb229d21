/**
 * The one socket of a client on `/ws/`. Opening, heartbeat and reconnecting
 * are the reconnecting socket's (reconnecting-socket.ts); what travels on
 * it is the subscriptions' business (subscriptions.ts). This file tells
 * them when the connection is up (the server's `welcome`) and when it is
 * down.
 */

import type { WelcomeData } from "../types";
import { ReconnectingSocket, type SocketChange, type SocketState } from "./reconnecting-socket";
import type { Frame, ResolvedOptions, StreamHost } from "./shared";

/** `idle`: no subscription wants a connection, so none is kept. */
export type MultiplexState = SocketState;

/** A connection-wide state change, as each subscription reports it. */
export type ConnectionChange = SocketChange;

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
  welcome: WelcomeData | null = null;
  /** The last change while not open, for subscriptions made meanwhile. */
  lastChange: ConnectionChange = { state: "closed", attempt: 0 };
  private readonly socket: ReconnectingSocket;

  constructor(
    host: StreamHost,
    options: ResolvedOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.socket = new ReconnectingSocket(host, options, {
      url: (ticket) => host.url(MULTIPLEX_PATH, ticket),
      frame: (frame) => this.receive(frame),
      changed: (change) => this.changed(change),
    });
  }

  get state(): MultiplexState {
    return this.socket.state;
  }

  get isOpen(): boolean {
    return this.socket.isOpen;
  }

  /** Connect unless already connected, connecting or waiting to retry.
   * After a refusal or giving up, a new subscription tries afresh. */
  start(): void {
    this.socket.start();
  }

  /** Close for good (no subscription left): no reconnection. */
  stop(): void {
    this.socket.stop();
    this.welcome = null;
    this.lastChange = { state: "closed", attempt: 0 };
  }

  /** Retry now, with a fresh attempt count, if waiting to retry or given up. */
  retryNow(): void {
    this.socket.retryNow();
  }

  /** The browser says the network is gone: drop the socket and report offline. */
  goOffline(): void {
    this.socket.goOffline();
  }

  send(message: object): boolean {
    return this.socket.send(message);
  }

  private receive(frame: Frame): void {
    if (frame.type !== "welcome") {
      this.events.frame(frame);
      return;
    }
    this.welcome = (frame.data ?? null) as WelcomeData | null;
    this.socket.markOpen();
    this.events.welcomed();
  }

  private changed(change: ConnectionChange): void {
    this.welcome = null;
    this.lastChange = change;
    if (change.state === "connecting") this.events.connecting(change);
    else this.events.down(change);
  }
}
