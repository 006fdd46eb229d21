/**
 * What every stream keeps, whichever transport carries it: the handlers of
 * its subscribe calls, the delivery of its frames to them, and its last
 * state change, reported to the client.
 */

import type { ErrorData } from "../types";
import type {
  ConnectionState,
  Frame,
  HandlerEntry,
  MessageHandler,
  Refusal,
  ServerError,
  StateChange,
  StreamHandle,
  StreamHost,
  StreamSpec,
} from "./shared";

export function serverError(frame: Frame, key: string | null): ServerError {
  const data = (frame.data ?? {}) as Partial<ErrorData>;
  return { key, code: String(data.code ?? ""), message: String(data.message ?? "") };
}

export abstract class StreamHandlers implements StreamHandle {
  readonly handlers = new Set<HandlerEntry>();
  state: ConnectionState = "closed";
  /** The last state change, for late listeners. */
  last: StateChange;
  /** The server's refusal of this stream itself (not of its connection), until it opens. */
  refusal: Refusal | undefined;

  constructor(
    readonly spec: StreamSpec,
    protected readonly host: StreamHost,
  ) {
    this.last = { key: spec.key, state: "closed", attempt: 0 };
  }

  abstract stop(): void;
  abstract retryNow(): void;
  abstract send(message: { type: string } & Record<string, unknown>): boolean;

  /** Record `change` as this stream's state and tell the client. */
  report(change: Omit<StateChange, "key" | "attempt">, attempt: number): void {
    this.state = change.state;
    this.last = { ...change, key: this.spec.key, attempt };
    if (this.refusal && !change.refusal) this.last.refusal = this.refusal;
    this.host.emitState(this.last);
  }

  /**
   * Hand `frame` to the handlers that take its kind; an `error` frame goes
   * to the client's error listeners instead. Move the stream's resume point
   * first, so a handler reading it sees this message.
   */
  deliver(frame: Frame): void {
    if (frame.type === "error") {
      this.host.emitServerError(serverError(frame, this.spec.key));
      return;
    }
    const cursor = this.spec.cursorOf?.(frame);
    if (cursor) this.host.setResumeId(this.spec.key, cursor);
    for (const entry of [...this.handlers]) {
      if (!entry.kinds.has(frame.type)) continue;
      try {
        (entry.handler as MessageHandler<Frame>)(frame);
      } catch (error) {
        // One broken handler must not starve the others or kill the socket.
        console.error(`handler for ${this.spec.key} failed`, error);
      }
    }
  }
}
