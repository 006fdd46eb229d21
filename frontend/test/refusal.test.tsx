// @vitest-environment jsdom
import { act, cleanup, render, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { RealtimeProvider, summarize, useNotifications } from "../lib/use-websocket";
import type { RealtimeClient } from "../lib/websocket-client";
import { ConnectionBadge } from "../src/components/TopBar";
import { recordingClients } from "./clients";
import { envelope, FakeWebSocket, streamEnvelope } from "./fake-websocket";

const TOO_MANY = "too many connections for this user";

const clients = recordingClients({ visibilityTarget: null });

function refuse(socket: FakeWebSocket, stream: string, code: number, message: string) {
  socket.serverSend(streamEnvelope(stream, "subscribe_error", { code, message }));
}

afterEach(() => {
  cleanup();
});

describe("a stream refused on /ws/", () => {
  it("carries the server's code and message through its retries until it is subscribed", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    client.subscribeToTrending(() => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    socket.serverSubscribed("trending");
    refuse(socket, "notifications/42", 4429, TOO_MANY);

    const refusal = { code: 4429, message: TOO_MANY };
    expect(clients.lastChangeOf("notifications-42")).toMatchObject({ state: "reconnecting", refusal });
    expect(client.getStateChange("notifications-42")?.refusal).toEqual(refusal);
    expect(client.getStateChange("trending")?.refusal).toBeUndefined();

    vi.advanceTimersByTime(3000);
    expect(socket.subscribes().filter((s) => s === "notifications/42")).toHaveLength(2);
    expect(clients.lastChangeOf("notifications-42")).toMatchObject({ state: "connecting", refusal });

    socket.serverSubscribed("notifications/42");
    expect(clients.lastChangeOf("notifications-42")?.state).toBe("open");
    expect(clients.lastChangeOf("notifications-42")?.refusal).toBeUndefined();
  });

  it("closes a stream refused for access with the refusal on its state", () => {
    const client = clients.make();
    client.subscribeToFeed("43", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    refuse(socket, "feed/43", 4403, "not your stream");
    expect(client.getStateChange("feed-43")).toMatchObject({
      state: "closed",
      closedBy: "server",
      refusal: { code: 4403, message: "not your stream" },
    });
  });

  it("reports a subscription the server ended with 4429 as refused until it is back", () => {
    const client = clients.make();
    client.subscribeToFeed("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    socket.serverSubscribeAll();
    socket.serverSend({ ...envelope("unsubscribed", { code: 4429, message: "too slow" }), stream: "feed/42" });
    expect(client.getStateChange("feed-42")).toMatchObject({ state: "reconnecting", refusal: { code: 4429 } });
    vi.advanceTimersByTime(1000);
    socket.serverSubscribed("feed/42");
    expect(client.getStateChange("feed-42")?.refusal).toBeUndefined();
  });

  it("forgets a stream's refusal when the connection drops: the next one gets a fresh answer", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    const socket = FakeWebSocket.last();
    socket.serverWelcome();
    refuse(socket, "notifications/42", 4429, TOO_MANY);
    socket.serverClose(1006);
    expect(client.getStateChange("notifications-42")?.state).toBe("reconnecting");
    expect(client.getStateChange("notifications-42")?.refusal).toBeUndefined();
  });
});

describe("a single-stream socket refused", () => {
  it("keeps a 4429 close's reason through the retry, and drops it once open", () => {
    const client = clients.make({ multiplex: false });
    client.subscribeToNotifications("42", () => {});
    FakeWebSocket.last().serverAccept();
    FakeWebSocket.last().serverClose(4429, TOO_MANY);
    const refusal = { code: 4429, message: TOO_MANY };
    expect(clients.lastChangeOf("notifications-42")).toMatchObject({ state: "reconnecting", refusal });
    vi.advanceTimersByTime(3000);
    expect(clients.lastChangeOf("notifications-42")).toMatchObject({ state: "connecting", refusal });
    FakeWebSocket.last().serverOpen();
    expect(clients.lastChangeOf("notifications-42")?.state).toBe("open");
    expect(clients.lastChangeOf("notifications-42")?.refusal).toBeUndefined();
  });

  it("reports 4401 and 4403 closes as refusals that end the stream", () => {
    const client = clients.make({ multiplex: false });
    client.subscribeToNotifications("42", () => {});
    client.subscribeToFeed("42", () => {});
    FakeWebSocket.instances[0].serverClose(4401, "not authenticated");
    FakeWebSocket.instances[1].serverClose(4403, "not yours");
    expect(client.getStateChange("notifications-42")).toMatchObject({
      state: "closed",
      refusal: { code: 4401, message: "not authenticated" },
    });
    expect(client.getStateChange("feed-42")).toMatchObject({ state: "closed", refusal: { code: 4403 } });
  });

  it("does not call a dropped connection a refusal", () => {
    const client = clients.make({ multiplex: false });
    client.subscribeToTrending(() => {});
    FakeWebSocket.last().serverClose(4429, TOO_MANY);
    vi.advanceTimersByTime(3000);
    FakeWebSocket.last().fail();
    expect(client.getStateChange("trending")?.refusal).toBeUndefined();
  });
});

describe("hooks and the top bar", () => {
  function providerFor(client: RealtimeClient) {
    return function Wrapper({ children }: { children?: ReactNode }) {
      return <RealtimeProvider client={client}>{children}</RealtimeProvider>;
    };
  }

  it("summarizes a refused stream as refused, with its reason, ahead of the others' states", () => {
    const summary = summarize([
      { key: "trending", state: "open", attempt: 0 },
      { key: "notifications-42", state: "reconnecting", attempt: 1, retryAt: 5, refusal: { code: 4429, message: TOO_MANY } },
    ]);
    expect(summary).toMatchObject({ status: "refused", refusal: { code: 4429, message: TOO_MANY }, retryAt: 5 });
  });

  it("hands the refusal to the hook of the refused stream", () => {
    const client = clients.make();
    const { result } = renderHook(() => useNotifications("42"), { wrapper: providerFor(client) });
    const socket = FakeWebSocket.last();
    act(() => {
      socket.serverWelcome();
      refuse(socket, "notifications/42", 4429, TOO_MANY);
    });
    expect(result.current.status).toBe("reconnecting");
    expect(result.current.refusal).toEqual({ code: 4429, message: TOO_MANY });
    act(() => {
      vi.advanceTimersByTime(3000);
      socket.serverSubscribed("notifications/42");
    });
    expect(result.current.refusal).toBeNull();
  });

  it("says too many tabs instead of reconnecting when the per-user cap refuses this tab", () => {
    const client = clients.make();
    client.subscribeToNotifications("42", () => {});
    client.subscribeToTrending(() => {});
    const view = render(<ConnectionBadge />, { wrapper: providerFor(client) });
    const socket = FakeWebSocket.last();
    act(() => {
      socket.serverWelcome();
      socket.serverSubscribed("trending");
      refuse(socket, "notifications/42", 4429, TOO_MANY);
    });
    const badge = view.getByTestId("connection-status");
    expect(badge.dataset.state).toBe("refused");
    expect(badge.textContent).toContain("Too many tabs open: close one to get live updates here");
    expect(badge.textContent).not.toContain("Reconnecting");

    act(() => {
      vi.advanceTimersByTime(3000);
      socket.serverSubscribed("notifications/42");
    });
    expect(badge.dataset.state).toBe("live");
    expect(badge.textContent).toContain("Live");
  });
});
