/**
 * The shapes on the wire (shared/PROTOCOL.md). Every id is a string; every
 * timestamp is ISO 8601 in UTC. REST responses and WebSocket `data` use the
 * same shape for the same resource.
 */

export type NotificationType = "LIKE" | "REPLY" | "RETWEET" | "FOLLOW" | "MENTION";

export interface Notification {
  notification_id: string;
  type: NotificationType;
  actor_id: string;
  actor_name: string;
  tweet_id: string | null;
  /** Present in REST and WebSocket payloads alike; a live notification is unread. */
  read?: boolean;
  created_at: string;
}

export interface EngagementCounts {
  likes: number;
  replies: number;
  retweets: number;
  bookmarks: number;
}

/** What the signed-in user did to a tweet (the like/retweet/bookmark buttons' state). */
export interface ViewerState {
  liked: boolean;
  retweeted: boolean;
  bookmarked: boolean;
}

export interface Tweet {
  tweet_id: string;
  author_id: string;
  author_name: string;
  content: string;
  topics: string[];
  reply_to: string | null;
  engagement: EngagementCounts;
  created_at: string;
  /** Only if the backend reports it for the requesting user (see the README). */
  viewer?: ViewerState;
}

export interface TrendingTopic {
  topic: string;
  tweet_count: number;
  engagement_score: number;
  growth_rate: number;
}

export interface TrendingData {
  topics: TrendingTopic[];
  count: number;
}

export interface FeedUpdateData {
  tweets: Tweet[];
  count: number;
}

export interface EngagementData {
  tweet_id: string;
  engagement: EngagementCounts;
}

export interface TypingData {
  tweet_id: string;
  user_id: string;
  user_name: string;
  is_typing: boolean;
}

export interface ErrorData {
  code: string;
  message: string;
}

/** Sent on a notifications stream when notifications are marked read (here or in another tab). */
export interface NotificationsReadData {
  notification_ids: string[];
  /** True for "read all" (then `notification_ids` is empty). */
  all: boolean;
  unread_count: number;
}

/** The first frame on `/ws/`. */
export interface WelcomeData {
  /** The signed-in user, or null for an anonymous connection (public streams only). */
  user_id: string | null;
  max_subscriptions: number;
}

/** Why a subscribe was refused: the close code the single-stream endpoint would have used. */
export interface SubscribeErrorData {
  code: number;
  message: string;
}

/** `{}` after an unsubscribe; with `code` when the server ended the subscription itself. */
export interface UnsubscribedData {
  code?: number;
  message?: string;
}

/** A server process is stopping: reconnect after `after_ms`. */
export interface ReconnectData {
  after_ms: number;
}

export interface Envelope<K extends string, D> {
  type: K;
  timestamp: string;
  data: D;
  /** On `/ws/`: the stream the message belongs to, e.g. `notifications/42`. */
  stream?: string;
}

export type NotificationMessage = Envelope<"notification", Notification>;
export type TrendingMessage = Envelope<"trending", TrendingData>;
export type FeedUpdateMessage = Envelope<"feed_update", FeedUpdateData>;
export type EngagementUpdateMessage = Envelope<"engagement_update", EngagementData>;
export type TypingMessage = Envelope<"typing", TypingData>;
export type NotificationsReadMessage = Envelope<"notifications_read", NotificationsReadData>;
export type ErrorMessage = Envelope<"error", ErrorData>;

export type WelcomeMessage = Envelope<"welcome", WelcomeData>;
export type SubscribedMessage = Envelope<"subscribed", Record<string, never>> & { stream: string };
export type SubscribeErrorMessage = Envelope<"subscribe_error", SubscribeErrorData> & { stream: string };
export type UnsubscribedMessage = Envelope<"unsubscribed", UnsubscribedData> & { stream: string };
export type ReconnectMessage = Envelope<"reconnect", ReconnectData>;
export interface PongMessage {
  type: "pong";
  timestamp: string;
}

/** What each stream's handlers receive. */
export type NotificationStreamMessage = NotificationMessage | NotificationsReadMessage;
export type EngagementStreamMessage = EngagementUpdateMessage | TypingMessage;

/** The messages of the streams (and `error`). */
export type ServerMessage =
  | NotificationMessage
  | NotificationsReadMessage
  | TrendingMessage
  | FeedUpdateMessage
  | EngagementUpdateMessage
  | TypingMessage
  | ErrorMessage;

/** The messages about the connection and its subscriptions, which the client handles itself. */
export type ControlMessage =
  | WelcomeMessage
  | SubscribedMessage
  | SubscribeErrorMessage
  | UnsubscribedMessage
  | ReconnectMessage
  | PongMessage;

export interface ConnectionStats {
  active_users: number;
  total_user_connections: number;
  global_connections: number;
  total_connections: number;
}

/** A page of a cursor-paginated REST list, newest first. */
export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

/** A page of the home timeline: what the signed-in user did to each tweet
 * comes beside the tweets (a tweet has one shape everywhere). */
export interface TimelinePage extends Page<Tweet> {
  viewer?: Record<string, ViewerState>;
}

export interface Me {
  user_id: string;
  username: string;
  display_name: string;
}

export interface UserSummary {
  user_id: string;
  username: string;
  display_name: string;
  following: boolean;
}
