/**
 * Clients for tests: made on fake sockets and a fake `window`, with no
 * jitter, and every state change they announce recorded in order.
 */

import { afterEach, beforeEach, vi } from "vitest";

import { RealtimeClient, type ClientOptions, type StateChange } from "../lib/websocket-client";
import { FakeWebSocket, FakeWindow } from "./fake-websocket";

export class ClientRecorder {
  /** The state changes of every client made or recorded here, oldest first. */
  changes: StateChange[] = [];
  /** The `window` the clients listen to for online and offline. */
  win = new FakeWindow();

  constructor(private readonly defaults: ClientOptions = {}) {}

  /** A client of example.test with no jitter; `options` override the recorder's defaults. */
  make(options: ClientOptions = {}): RealtimeClient {
    const client = new RealtimeClient("http://example.test:8000", {
      WebSocket: FakeWebSocket,
      onlineTarget: this.win,
      jitter: 0,
      ...this.defaults,
      ...options,
    });
    return this.record(client);
  }

  /** Record the state changes of `client`, made elsewhere, as well. */
  record(client: RealtimeClient): RealtimeClient {
    client.on("state", (change) => this.changes.push(change));
    return client;
  }

  /** The latest state change of any stream. */
  lastChange(): StateChange | undefined {
    return this.changes.at(-1);
  }

  /** The latest state change of the stream `key`. */
  lastChangeOf(key: string): StateChange | undefined {
    return this.changes.filter((c) => c.key === key).at(-1);
  }

  /** Forget every change and window listener, as a new test begins. */
  reset(): void {
    this.changes = [];
    this.win = new FakeWindow();
  }
}

/**
 * Give every test of the calling file fake timers, no sockets yet and a
 * recorder with nothing recorded, and return that recorder. Call it at the
 * top of a test file, before its own hooks: its `afterEach` then runs after
 * theirs, so they still see fake timers.
 */
export function recordingClients(defaults: ClientOptions = {}): ClientRecorder {
  const recorder = new ClientRecorder(defaults);
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
    recorder.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return recorder;
}
