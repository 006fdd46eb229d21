/**
 * Which tweets the signed-in user liked, retweeted or bookmarked, for the
 * buttons' on/off state. The API's tweet has no such field yet, so the
 * dashboard remembers its own actions in localStorage (per user). A
 * `viewer` object on a tweet, when the API sends one, is used for tweets
 * this browser has not acted on.
 */

import type { Tweet, ViewerState } from "../lib/types";

export type EngagementKind = "like" | "retweet" | "bookmark";

const FIELD: Record<EngagementKind, keyof ViewerState> = {
  like: "liked",
  retweet: "retweeted",
  bookmark: "bookmarked",
};

type Stored = Record<string, Partial<ViewerState>>;

function storageKey(userId: string) {
  return `pulse.viewer.${userId}`;
}

export function loadViewerState(userId: string): Stored {
  try {
    return JSON.parse(localStorage.getItem(storageKey(userId)) || "{}") as Stored;
  } catch {
    return {};
  }
}

export function saveViewerState(userId: string, state: Stored): void {
  try {
    localStorage.setItem(storageKey(userId), JSON.stringify(state));
  } catch {
    // Private mode or full storage: the buttons just forget after a reload.
  }
}

export function viewerOf(stored: Stored, tweet: Tweet): ViewerState {
  const local = stored[tweet.tweet_id] ?? {};
  return {
    liked: local.liked ?? tweet.viewer?.liked ?? false,
    retweeted: local.retweeted ?? tweet.viewer?.retweeted ?? false,
    bookmarked: local.bookmarked ?? tweet.viewer?.bookmarked ?? false,
  };
}

export function withViewer(stored: Stored, tweetId: string, kind: EngagementKind, on: boolean): Stored {
  return { ...stored, [tweetId]: { ...stored[tweetId], [FIELD[kind]]: on } };
}

export function isOn(viewer: ViewerState, kind: EngagementKind): boolean {
  return viewer[FIELD[kind]];
}
