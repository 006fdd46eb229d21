import { useState } from "react";

import type { Me, Notification, Tweet } from "../../lib/types";
import type { Refusal } from "../../lib/websocket-client";
import { useConnectionSummary, useWebSocketClient } from "../../lib/use-websocket";
import { useDismiss, useNow } from "../app-context";
import { timeAgo } from "../format";
import { Avatar } from "./Avatar";
import { AtIcon, BellIcon, FollowIcon, HeartIcon, LogoutIcon, PulseLogo, ReplyIcon, RetweetIcon } from "./Icons";

const isPageStream = (key: string) => !key.startsWith("engagement-");

/** What a refusal means to the person looking at this tab. */
export function refusalText(refusal: Refusal): string {
  switch (refusal.code) {
    case 4429:
      // The per-user connection cap counts this user's tabs (and other clients).
      return /connection/i.test(refusal.message)
        ? "Too many tabs open: close one to get live updates here"
        : "Live updates paused: the server asked this page to slow down";
    case 4401:
      return "Signed out: sign in again for live updates";
    case 4403:
      return "Live updates are not allowed for this account here";
    default:
      return "Live updates are unavailable for this page";
  }
}

export function ConnectionBadge() {
  const client = useWebSocketClient();
  // The page's own streams; per-tweet engagement streams come and go while scrolling.
  const summary = useConnectionSummary(isPageStream);
  const now = useNow(1000, summary.status === "reconnecting");
  // Restarting waits out the server's own delay: "Retry now" would defeat its spread.
  let label: string;
  switch (summary.status) {
    case "live":
      label = "Live";
      break;
    case "reconnecting": {
      const seconds = summary.retryAt ? Math.max(0, Math.ceil((summary.retryAt - now) / 1000)) : 0;
      label = seconds > 0 ? `Reconnecting in ${seconds}s` : "Reconnecting…";
      break;
    }
    case "restarting":
      label = "Server restarting, reconnecting…";
      break;
    case "refused":
      label = summary.refusal ? refusalText(summary.refusal) : "Live updates refused";
      break;
    case "offline":
      label = "Offline";
      break;
    default:
      label = "Connecting…";
  }
  // Only a limit may pass on a retry (another tab closed); refused access cannot.
  const canRetry =
    summary.status === "offline" ||
    summary.status === "reconnecting" ||
    (summary.status === "refused" && summary.refusal?.code === 4429);
  return (
    <div
      className={`conn conn--${summary.status}`}
      data-testid="connection-status"
      data-state={summary.status}
      data-code={summary.refusal?.code}
    >
      <span className="conn__dot" aria-hidden="true" />
      <span className="conn__label" role="status" aria-live="polite">
        {label}
      </span>
      {canRetry && (
        <button type="button" className="conn__retry" onClick={() => client.reconnectNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}

const NOTIFICATION_TEXT: Record<Notification["type"], string> = {
  LIKE: "liked your tweet",
  RETWEET: "retweeted your tweet",
  REPLY: "replied to your tweet",
  FOLLOW: "followed you",
  MENTION: "mentioned you",
};

export function notificationText(n: Notification): string {
  return NOTIFICATION_TEXT[n.type] ?? n.type.toLowerCase();
}

function NotificationIcon({ type }: { type: Notification["type"] }) {
  const icon = {
    LIKE: <HeartIcon filled size={16} />,
    RETWEET: <RetweetIcon size={16} />,
    REPLY: <ReplyIcon size={16} />,
    FOLLOW: <FollowIcon size={16} />,
    MENTION: <AtIcon size={16} />,
  }[type];
  return <span className={`notif__icon notif__icon--${type.toLowerCase()}`}>{icon}</span>;
}

export interface NotificationCenterProps {
  notifications: Notification[];
  unreadCount: number;
  loading: boolean;
  markRead: (id: string) => void;
  markAllRead: () => void;
  tweetsById: Map<string, Tweet>;
  onOpenTweet: (tweetId: string) => void;
  open: boolean;
  setOpen: (open: boolean) => void;
}

export function NotificationCenter(props: NotificationCenterProps) {
  const { notifications, unreadCount, loading, markRead, markAllRead, tweetsById, onOpenTweet, open, setOpen } =
    props;
  const ref = useDismiss(open, () => setOpen(false));
  const now = useNow(30_000);
  return (
    <div className="bell" ref={ref}>
      <button
        type="button"
        className={open ? "icon-button is-active" : "icon-button"}
        aria-label={unreadCount ? `Notifications, ${unreadCount} unread` : "Notifications"}
        aria-expanded={open}
        data-testid="notifications-button"
        onClick={() => setOpen(!open)}
      >
        <BellIcon size={22} />
        {unreadCount > 0 && (
          <span className="badge" data-testid="unread-badge">
            {unreadCount > 99 ? "99+" : unreadCount}
          </span>
        )}
      </button>
      {open && (
        <div className="popover notif-panel" role="dialog" aria-label="Notifications" data-testid="notification-panel">
          <header className="popover__header">
            <h3>Notifications</h3>
            <button type="button" className="link-button" onClick={markAllRead} disabled={unreadCount === 0}>
              Mark all as read
            </button>
          </header>
          <ul className="notif-list">
            {loading && !notifications.length && <li className="notif-empty">Loading…</li>}
            {!loading && !notifications.length && (
              <li className="notif-empty">
                <strong>You're all caught up</strong>
                <span>Likes, replies, follows and mentions will show up here the moment they happen.</span>
              </li>
            )}
            {notifications.map((n) => {
              const tweet = n.tweet_id ? tweetsById.get(n.tweet_id) : undefined;
              return (
                <li key={n.notification_id}>
                  <button
                    type="button"
                    className={n.read ? "notif" : "notif is-unread"}
                    data-testid="notification"
                    onClick={() => {
                      if (!n.read) markRead(n.notification_id);
                      if (n.tweet_id) onOpenTweet(n.tweet_id);
                    }}
                  >
                    <NotificationIcon type={n.type} />
                    <Avatar userId={n.actor_id} name={n.actor_name} size={34} />
                    <span className="notif__body">
                      <span className="notif__text">
                        <strong>{n.actor_name}</strong> {notificationText(n)}
                      </span>
                      {tweet && <span className="notif__snippet">{tweet.content}</span>}
                      <span className="notif__time">{timeAgo(n.created_at, now)}</span>
                    </span>
                    {!n.read && <span className="notif__dot" aria-label="unread" />}
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
}

export function UserMenu({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const [open, setOpen] = useState(false);
  const ref = useDismiss(open, () => setOpen(false));
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="user-menu__button" onClick={() => setOpen(!open)} aria-expanded={open}>
        <Avatar userId={me.user_id} name={me.display_name} size={32} />
        <span className="user-menu__name">{me.display_name}</span>
      </button>
      {open && (
        <div className="popover user-menu__popover" role="menu">
          <div className="user-menu__who">
            <strong>{me.display_name}</strong>
            <span className="muted">@{me.username}</span>
          </div>
          <button type="button" role="menuitem" className="menu-item" onClick={onLogout} data-testid="logout">
            <LogoutIcon size={16} /> Sign out
          </button>
        </div>
      )}
    </div>
  );
}

export function TopBar(props: { me: Me; onLogout: () => void; notificationCenter: NotificationCenterProps }) {
  return (
    <header className="topbar">
      <div className="topbar__inner">
        <a className="brand" href="/">
          <PulseLogo />
          <span>Pulse</span>
        </a>
        <div className="topbar__right">
          <ConnectionBadge />
          <NotificationCenter {...props.notificationCenter} />
          <UserMenu me={props.me} onLogout={props.onLogout} />
        </div>
      </div>
    </header>
  );
}
