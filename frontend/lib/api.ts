/**
 * The REST API as the dashboard uses it: same origin, session cookie, and
 * the CSRF token (from the `csrftoken` cookie, which the page view sets)
 * in `X-CSRFToken` on every unsafe request, as Django requires of
 * session-authenticated writes.
 */

import type {
  EngagementData,
  Me,
  Notification,
  Page,
  TimelinePage,
  TrendingData,
  Tweet,
  UserSummary,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(describeError(status, body));
  }

  /** Field errors of a 400 answer: `{field: ["message", ...]}`. */
  get fieldErrors(): Record<string, string[]> {
    if (this.status !== 400 || !this.body || typeof this.body !== "object") return {};
    const out: Record<string, string[]> = {};
    for (const [field, value] of Object.entries(this.body as Record<string, unknown>)) {
      out[field] = Array.isArray(value) ? value.map(String) : [String(value)];
    }
    return out;
  }
}

function describeError(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const detail = (body as { detail?: unknown }).detail;
    if (typeof detail === "string") return detail;
    const first = Object.values(body as Record<string, unknown>)[0];
    if (Array.isArray(first) && first.length) return String(first[0]);
    if (typeof first === "string") return first;
  }
  if (status === 0) return "The server cannot be reached.";
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return "The server had a problem. Try again.";
  return `Request failed (${status}).`;
}

export function readCookie(name: string, cookies = typeof document !== "undefined" ? document.cookie : ""): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** A pagination link is absolute; keep only its path so it goes where the page came from. */
function relative(path: string): string {
  if (!/^https?:\/\//.test(path)) return path;
  const url = new URL(path);
  return url.pathname + url.search;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

export class Api {
  constructor(
    private readonly base = "",
    private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args),
  ) {}

  async request<T>(path: string, { method = "GET", body, signal }: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (UNSAFE.has(method)) {
      // Read on every request: Django rotates the token at sign-in.
      const csrf = readCookie("csrftoken");
      if (csrf) headers["X-CSRFToken"] = csrf;
    }
    const url = `${this.base}${relative(path)}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        signal,
      });
    } catch (error) {
      if ((error as Error)?.name === "AbortError") throw error;
      throw new ApiError(0, null);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data as T;
  }

  // --- Accounts ------------------------------------------------------------
  me = (signal?: AbortSignal) => this.request<Me>("/api/auth/me/", { signal });
  login = (username: string, password: string) =>
    this.request<Me & { token: string }>("/api/auth/login/", {
      method: "POST",
      body: { username, password },
    });
  register = (username: string, password: string, displayName: string) =>
    this.request<Me & { token: string }>("/api/auth/register/", {
      method: "POST",
      body: { username, password, display_name: displayName },
    });
  logout = () => this.request<void>("/api/auth/logout/", { method: "POST" });

  // --- Tweets and feed -----------------------------------------------------
  feed = async (pageUrl?: string | null, signal?: AbortSignal): Promise<Page<Tweet>> => {
    const page = await this.request<TimelinePage>(pageUrl || "/api/feed/", { signal });
    const viewer = page.viewer ?? {};
    return {
      ...page,
      results: page.results.map((tweet) =>
        viewer[tweet.tweet_id] ? { ...tweet, viewer: viewer[tweet.tweet_id] } : tweet,
      ),
    };
  };
  tweet = (tweetId: string) => this.request<Tweet>(`/api/tweets/${encodeURIComponent(tweetId)}/`);
  postTweet = (content: string, replyTo?: string | null) =>
    this.request<Tweet>("/api/tweets/", {
      method: "POST",
      body: replyTo ? { content, reply_to: Number(replyTo) } : { content },
    });
  engage = (tweetId: string, kind: "like" | "retweet" | "bookmark", on: boolean) =>
    this.request<EngagementData>(`/api/tweets/${encodeURIComponent(tweetId)}/${kind}/`, {
      method: on ? "POST" : "DELETE",
    });

  // --- People --------------------------------------------------------------
  users = (pageSize = 20, search = "", signal?: AbortSignal) =>
    this.request<Page<UserSummary>>(
      `/api/users/?page_size=${pageSize}${search ? `&q=${encodeURIComponent(search)}` : ""}`,
      { signal },
    );
  follow = (userId: string, on: boolean) =>
    this.request<{ user_id: string; following: boolean }>(
      `/api/users/${encodeURIComponent(userId)}/follow/`,
      { method: on ? "POST" : "DELETE" },
    );

  // --- Notifications -------------------------------------------------------
  notifications = (pageSize = 30, signal?: AbortSignal) =>
    this.request<Page<Notification>>(`/api/notifications/?page_size=${pageSize}`, { signal });

  /** Every unread notification, following pages up to `limit` items. */
  async unreadNotifications(limit = 500, signal?: AbortSignal): Promise<Notification[]> {
    const out: Notification[] = [];
    let url: string | null = "/api/notifications/?unread=1&page_size=100";
    while (url && out.length < limit) {
      const page: Page<Notification> = await this.request<Page<Notification>>(url, { signal });
      out.push(...page.results);
      url = page.next;
    }
    return out;
  }

  markRead = (notificationId: string) =>
    this.request<{ updated: number; unread_count: number }>(
      `/api/notifications/${encodeURIComponent(notificationId)}/read/`,
      { method: "POST" },
    );
  markAllRead = () =>
    this.request<{ updated: number; unread_count: number }>("/api/notifications/read-all/", {
      method: "POST",
    });

  // --- Trending ------------------------------------------------------------
  trending = (signal?: AbortSignal) => this.request<TrendingData>("/api/trending/", { signal });
}
