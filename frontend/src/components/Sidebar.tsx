import { useEffect, useState } from "react";

import type { ConnectionStats, Me, UserSummary } from "../../lib/types";
import { useTrending, useWebSocketClient } from "../../lib/use-websocket";
import { useApp } from "../app-context";
import { compactNumber, plural } from "../format";
import { Avatar } from "./Avatar";
import { BellIcon, HomeIcon, SearchIcon, TrendIcon } from "./Icons";

export function TrendingWidget() {
  const { trending, loaded } = useTrending();
  return (
    <section className="card widget" data-testid="trending">
      <h3 className="widget__title">
        <TrendIcon size={18} /> Trending now
        <span className="live-dot" title="Updates live" aria-hidden="true" />
      </h3>
      {!loaded && (
        <ul className="trend-list">
          {[0, 1, 2].map((i) => (
            <li key={i} className="trend">
              <div className="skeleton skeleton--line" style={{ width: "60%" }} />
            </li>
          ))}
        </ul>
      )}
      {loaded && trending.length === 0 && (
        <p className="widget__empty">Nothing is trending yet. Tweets with #hashtags start trends.</p>
      )}
      <ol className="trend-list">
        {trending.map((topic, index) => (
          <li key={topic.topic} className="trend" data-testid="trend">
            <span className="trend__rank">{index + 1}</span>
            <div className="trend__body">
              <strong className="trend__topic">#{topic.topic}</strong>
              <span className="muted">
                {plural(topic.tweet_count, "tweet")} · score {topic.engagement_score.toFixed(1)}
              </span>
            </div>
            <Growth rate={topic.growth_rate} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Growth({ rate }: { rate: number }) {
  if (!Number.isFinite(rate) || rate === 0) return <span className="growth growth--flat">—</span>;
  const percent = Math.round(rate * 100);
  return (
    <span className={rate > 0 ? "growth growth--up" : "growth growth--down"}>
      {rate > 0 ? "▲" : "▼"} {Math.abs(percent)}%
    </span>
  );
}

export function WhoToFollow({ onFollowChange }: { onFollowChange: (user: UserSummary, following: boolean) => void }) {
  const { api } = useApp();
  const [users, setUsers] = useState<UserSummary[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [showAll, setShowAll] = useState(false);
  const [search, setSearch] = useState("");

  useEffect(() => {
    const controller = new AbortController();
    const query = search.trim();
    // Wait for a pause in typing before asking the server.
    const timer = setTimeout(
      () =>
        api
          .users(50, query, controller.signal)
          .then((page) => {
            // Suggestions put people you do not follow yet first; a search keeps the server's order.
            const list = query
              ? page.results
              : [...page.results].sort((a, b) => Number(a.following) - Number(b.following));
            setUsers(list);
          })
          .catch((error) => {
            if ((error as Error)?.name !== "AbortError") setUsers([]);
          }),
      query ? 250 : 0,
    );
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, search]);

  async function toggle(user: UserSummary) {
    setBusy(user.user_id);
    const following = !user.following;
    try {
      await api.follow(user.user_id, following);
      setUsers((list) => list?.map((u) => (u.user_id === user.user_id ? { ...u, following } : u)) ?? null);
      onFollowChange(user, following);
    } finally {
      setBusy(null);
    }
  }

  const shown = users ? (showAll ? users : users.slice(0, 5)) : [];
  return (
    <section className="card widget" data-testid="who-to-follow">
      <h3 className="widget__title">{search.trim() ? "People" : "Who to follow"}</h3>
      <div className="search">
        <SearchIcon size={16} />
        <input
          type="search"
          placeholder="Search people"
          aria-label="Search people"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-testid="people-search"
        />
      </div>
      {users === null && <p className="widget__empty">Loading…</p>}
      {users?.length === 0 && (
        <p className="widget__empty">
          {search.trim() ? `Nobody matches “${search.trim()}”.` : "You're the first one here. Invite a friend!"}
        </p>
      )}
      <ul className="people">
        {shown.map((user) => (
          <li key={user.user_id} className="person" data-testid="person" data-user-id={user.user_id}>
            <Avatar userId={user.user_id} name={user.display_name} size={38} />
            <div className="person__who">
              <strong>{user.display_name}</strong>
              <span className="muted">@{user.username}</span>
            </div>
            <button
              type="button"
              className={user.following ? "button button--outline button--small follow is-following" : "button button--dark button--small follow"}
              disabled={busy === user.user_id}
              onClick={() => void toggle(user)}
              data-testid="follow-button"
            >
              <span className="follow__default">{user.following ? "Following" : "Follow"}</span>
              {user.following && <span className="follow__hover">Unfollow</span>}
            </button>
          </li>
        ))}
      </ul>
      {users && users.length > 5 && (
        <button type="button" className="link-button widget__more" onClick={() => setShowAll(!showAll)}>
          {showAll ? "Show fewer" : `Show ${users.length - 5} more`}
        </button>
      )}
    </section>
  );
}

export function ProfileCard({
  me,
  unreadCount,
  onOpenNotifications,
}: {
  me: Me;
  unreadCount: number;
  onOpenNotifications: () => void;
}) {
  return (
    <section className="card profile">
      <div className="profile__banner" />
      <div className="profile__body">
        <Avatar userId={me.user_id} name={me.display_name} size={64} />
        <strong className="profile__name" data-testid="me-name">
          {me.display_name}
        </strong>
        <span className="muted">@{me.username}</span>
      </div>
      <nav className="nav">
        <a className="nav__item is-active" href="/">
          <HomeIcon size={20} /> Home
        </a>
        <button type="button" className="nav__item" onClick={onOpenNotifications}>
          <BellIcon size={20} /> Notifications
          {unreadCount > 0 && <span className="nav__count">{unreadCount > 99 ? "99+" : unreadCount}</span>}
        </button>
      </nav>
    </section>
  );
}

/** Who else is connected right now, from GET /ws/stats. */
export function LiveStats() {
  const client = useWebSocketClient();
  const [stats, setStats] = useState<ConnectionStats | null>(null);
  useEffect(() => {
    let cancelled = false;
    const load = () =>
      client
        .getStats()
        .then((s) => !cancelled && setStats(s))
        .catch(() => undefined);
    // First read once this page's own sockets had a moment to open and be counted.
    const first = setTimeout(load, 1200);
    const timer = setInterval(load, 15_000);
    return () => {
      cancelled = true;
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [client]);
  if (!stats) return null;
  return (
    <section className="card widget stats" data-testid="live-stats">
      <div className="stats__item">
        <strong>{compactNumber(stats.active_users)}</strong>
        <span className="muted">{stats.active_users === 1 ? "person online" : "people online"}</span>
      </div>
      <div className="stats__item">
        <strong>{compactNumber(stats.total_connections)}</strong>
        <span className="muted">live connections</span>
      </div>
    </section>
  );
}
