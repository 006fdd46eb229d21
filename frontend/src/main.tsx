import { createRoot } from "react-dom/client";

import { Api } from "../lib/api";
import { RealtimeProvider } from "../lib/use-websocket";
import { RecommendationEngineWebSocket } from "../lib/websocket-client";
import { App } from "./App";
import "./styles.css";

// One client for the whole page: every component sharing a stream shares its socket.
// The browser's session cookie authenticates both the REST calls and the sockets.
const client = new RecommendationEngineWebSocket(window.location.origin);
const api = new Api();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <RealtimeProvider client={client} api={api}>
      <App api={api} />
    </RealtimeProvider>,
  );
}
