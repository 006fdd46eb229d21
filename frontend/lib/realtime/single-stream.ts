/**
 * `multiplex: false`: one socket per stream on the single-stream endpoints
 * (`/ws/notifications/<id>`, ...), as the seed's client did.
 *
 * A stream is `open` at the server's answer to the ping sent on connect,
 * not at the handshake: the server accepts before it has joined the
 * stream, and only from its answer on is nothing published missed.
 */

import { StreamHandlers } from "./handlers";
import { ReconnectingSocket, type SocketChange } from "./reconnecting-socket";
import { PING, type Frame, type ResolvedOptions, type StreamHost, type StreamSpec } from "./shared";

/** One stream on a socket of its own. */
export class SingleStream extends StreamHandlers {
  private readonly socket: ReconnectingSocket;
  private stopped = false;

  constructor(
    spec: StreamSpec,
    host: StreamHost,
    options: ResolvedOptions,
    /** Called when this stream got through after failing: the server is back. */
    private readonly onBack: (key: string) => void,
  ) {
    super(spec, host);
    this.socket = new ReconnectingSocket(
      host,
      options,
      {
        url: (ticket) => this.url(ticket),
        arrived: () => {
          if (this.state !== "open") this.subscribed();
        },
        frame: (frame: Frame) => this.deliver(frame),
        changed: (change: SocketChange) => this.report(change, change.attempt),
      },
      PING,
    );
  }

  connect(): void {
    if (!this.stopped) this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    const attempt = this.socket.attempt;
    this.socket.stop();
    this.report({ state: "closed", closedBy: "client" }, attempt);
  }

  retryNow(): void {
    if (!this.stopped) this.socket.retryNow();
  }

  /** The browser says the network is gone: drop the socket and report offline. */
  goOffline(): void {
    if (!this.stopped) this.socket.goOffline();
  }

  send(message: { type: string } & Record<string, unknown>): boolean {
    return this.state === "open" && this.socket.send(message);
  }

  private url(ticket?: string): string {
    const since = this.spec.cursorOf ? this.host.getResumeId(this.spec.key) : undefined;
    return this.host.url(this.spec.path, ticket, { since });
  }

  /** The server's first frame: the stream is subscribed, and live. */
  private subscribed(): void {
    const reconnected = this.socket.markOpen();
    this.report({ state: "open" }, 0);
    if (reconnected) this.onBack(this.spec.key);
  }
}
