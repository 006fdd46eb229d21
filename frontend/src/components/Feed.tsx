import { memo, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { ApiError } from "../../lib/api";
import type { EngagementCounts, Tweet, ViewerState } from "../../lib/types";
import { useEngagementUpdates } from "../../lib/use-websocket";
import { useApp, useInView, useNow } from "../app-context";
import { compactNumber, fullDate, timeAgo, tweetParts } from "../format";
import type { EngagementKind } from "../viewer-state";
import { Avatar } from "./Avatar";
import { BookmarkIcon, HeartIcon, ReplyIcon, RetweetIcon } from "./Icons";

const MAX_LENGTH = 280;

export function TweetText({ content }: { content: string }) {
  return (
    <p className="tweet__text">
      {tweetParts(content).map((part, index) =>
        part.kind === "text" ? (
          <span key={index}>{part.text}</span>
        ) : part.kind === "link" ? (
          <a key={index} href={part.text} target="_blank" rel="noreferrer noopener">
            {part.text}
          </a>
        ) : (
          <span key={index} className={`tweet__${part.kind}`}>
            {part.text}
          </span>
        ),
      )}
    </p>
  );
}

function useComposer(onSubmit: (text: string) => Promise<void>) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const length = [...text].length;
  const canSend = !busy && text.trim().length > 0 && length <= MAX_LENGTH;
  async function send() {
    if (!canSend) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(text.trim());
      setText("");
    } catch (caught) {
      const fields = caught instanceof ApiError ? caught.fieldErrors : {};
      setError(fields.content?.[0] ?? (caught instanceof Error ? caught.message : "Could not post."));
    } finally {
      setBusy(false);
    }
  }
  return { text, setText, busy, error, length, canSend, send };
}

function CharCounter({ length }: { length: number }) {
  const left = MAX_LENGTH - length;
  if (length === 0) return null;
  return <span className={left < 0 ? "counter is-over" : left <= 20 ? "counter is-near" : "counter"}>{left}</span>;
}

export function Composer({ onPosted }: { onPosted: (tweet: Tweet) => void }) {
  const { api, me } = useApp();
  const composer = useComposer(async (text) => onPosted(await api.postTweet(text)));
  const area = useRef<HTMLTextAreaElement>(null);
  useAutosize(area, composer.text);
  return (
    <form
      className="card composer"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void composer.send();
      }}
    >
      <Avatar userId={me.user_id} name={me.display_name} />
      <div className="composer__main">
        <textarea
          ref={area}
          className="composer__input"
          placeholder="What's happening?"
          value={composer.text}
          rows={2}
          aria-label="Compose a tweet"
          data-testid="composer-input"
          onChange={(e) => composer.setText(e.target.value)}
          onKeyDown={(e: KeyboardEvent) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void composer.send();
          }}
        />
        {composer.error && <div className="alert alert--inline">{composer.error}</div>}
        <div className="composer__bar">
          <span className="composer__hint">Use #hashtags to join a trend, @name to mention someone</span>
          <CharCounter length={composer.length} />
          <button className="button button--primary" type="submit" disabled={!composer.canSend} data-testid="composer-submit">
            {composer.busy ? "Posting…" : "Post"}
          </button>
        </div>
      </div>
    </form>
  );
}

function useAutosize(ref: React.RefObject<HTMLTextAreaElement | null>, value: string) {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight}px`;
  }, [ref, value]);
}

/** The inline reply box under a tweet; tells the tweet's watchers while you type. */
function ReplyBox({ tweet, onPosted, onClose }: { tweet: Tweet; onPosted: (t: Tweet) => void; onClose: () => void }) {
  const { api, me } = useApp();
  const { setTyping } = useEngagementUpdates(tweet.tweet_id);
  const composer = useComposer(async (text) => {
    setTyping(false);
    onPosted(await api.postTweet(text, tweet.tweet_id));
    onClose();
  });
  const area = useRef<HTMLTextAreaElement>(null);
  useAutosize(area, composer.text);
  useEffect(() => area.current?.focus(), []);
  return (
    <form
      className="reply-box"
      onSubmit={(e) => {
        e.preventDefault();
        void composer.send();
      }}
    >
      <Avatar userId={me.user_id} name={me.display_name} size={36} />
      <div className="composer__main">
        <div className="reply-box__to">
          Replying to <strong>{tweet.author_name}</strong>
        </div>
        <textarea
          ref={area}
          className="composer__input composer__input--small"
          placeholder="Post your reply"
          value={composer.text}
          rows={1}
          aria-label={`Reply to ${tweet.author_name}`}
          data-testid="reply-input"
          onChange={(e) => {
            composer.setText(e.target.value);
            setTyping(e.target.value.trim().length > 0);
          }}
          onBlur={() => setTyping(false)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void composer.send();
            if (e.key === "Escape") onClose();
          }}
        />
        {composer.error && <div className="alert alert--inline">{composer.error}</div>}
        <div className="composer__bar">
          <span />
          <CharCounter length={composer.length} />
          <button type="button" className="button button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button className="button button--primary" type="submit" disabled={!composer.canSend} data-testid="reply-submit">
            {composer.busy ? "Replying…" : "Reply"}
          </button>
        </div>
      </div>
    </form>
  );
}

function TypingIndicator({ names }: { names: string[] }) {
  if (!names.length) return null;
  const who =
    names.length === 1
      ? names[0]
      : names.length === 2
        ? `${names[0]} and ${names[1]}`
        : `${names[0]} and ${names.length - 1} others`;
  return (
    <div className="typing" data-testid="typing-indicator" role="status">
      <span className="typing__dots" aria-hidden="true">
        <i />
        <i />
        <i />
      </span>
      {who} {names.length === 1 ? "is" : "are"} typing a reply…
    </div>
  );
}

export interface TweetCardProps {
  tweet: Tweet;
  parentAuthor?: string;
  viewer: ViewerState;
  replying: boolean;
  highlighted: boolean;
  onToggleReply: (tweetId: string) => void;
  onEngage: (tweet: Tweet, kind: EngagementKind, on: boolean) => Promise<EngagementCounts | null>;
  onPosted: (tweet: Tweet) => void;
}

export const TweetCard = memo(function TweetCard(props: TweetCardProps) {
  const { tweet, parentAuthor, viewer, replying, highlighted, onToggleReply, onEngage, onPosted } = props;
  const { me } = useApp();
  const ref = useRef<HTMLElement>(null);
  const inView = useInView(ref);
  // Every tweet on screen has live counters: each is one subscription on
  // the tab's one connection, not a socket of its own.
  const live = useEngagementUpdates(tweet.tweet_id, { enabled: inView || replying });
  const [counts, setCounts] = useState<EngagementCounts>(tweet.engagement);
  const [bump, setBump] = useState<Partial<Record<keyof EngagementCounts, number>>>({});
  const now = useNow(30_000);

  // Live counters from the socket replace whatever we had.
  useEffect(() => {
    if (live.engagement) setCounts(live.engagement);
  }, [live.engagement]);

  // Animate a counter when it changes.
  const previous = useRef(counts);
  useEffect(() => {
    const changed: Partial<Record<keyof EngagementCounts, number>> = {};
    for (const key of Object.keys(counts) as (keyof EngagementCounts)[]) {
      if (counts[key] !== previous.current[key]) changed[key] = Date.now();
    }
    previous.current = counts;
    if (Object.keys(changed).length) setBump((b) => ({ ...b, ...changed }));
  }, [counts]);

  async function toggle(kind: EngagementKind, field: keyof EngagementCounts, on: boolean) {
    setCounts((c) => ({ ...c, [field]: Math.max(0, c[field] + (on ? 1 : -1)) }));
    const result = await onEngage(tweet, kind, on);
    if (result) setCounts(result);
    else setCounts((c) => ({ ...c, [field]: Math.max(0, c[field] + (on ? -1 : 1)) }));
  }

  const typingNames = live.typingUsers.filter((u) => u.user_id !== me.user_id).map((u) => u.user_name);
  const action = (
    field: keyof EngagementCounts,
    label: string,
    icon: React.ReactNode,
    active: boolean,
    onClick: () => void,
    testid: string,
  ) => (
    <button
      type="button"
      className={`action action--${field}${active ? " is-active" : ""}`}
      aria-pressed={active}
      aria-label={`${label} (${counts[field]})`}
      data-testid={`${testid}-button`}
      onClick={onClick}
    >
      <span className="action__icon">{icon}</span>
      <span key={bump[field] ?? 0} className={bump[field] ? "action__count is-bumped" : "action__count"} data-testid={`${testid}-count`}>
        {counts[field] > 0 ? compactNumber(counts[field]) : ""}
      </span>
    </button>
  );

  return (
    <article
      ref={ref}
      className={`card tweet${highlighted ? " is-highlighted" : ""}`}
      data-testid="tweet"
      data-tweet-id={tweet.tweet_id}
      data-stream={live.status}
      id={`tweet-${tweet.tweet_id}`}
    >
      <Avatar userId={tweet.author_id} name={tweet.author_name} />
      <div className="tweet__main">
        <header className="tweet__header">
          <strong className="tweet__author">{tweet.author_name}</strong>
          {tweet.author_id === me.user_id && <span className="pill pill--you">You</span>}
          <span className="muted">·</span>
          <time className="muted" dateTime={tweet.created_at} title={fullDate(tweet.created_at)}>
            {timeAgo(tweet.created_at, now)}
          </time>
        </header>
        {tweet.reply_to && (
          <div className="tweet__reply-to">
            <ReplyIcon size={13} /> Replying to {parentAuthor ? <strong>{parentAuthor}</strong> : "a tweet"}
          </div>
        )}
        <TweetText content={tweet.content} />
        {tweet.topics.length > 0 && (
          <div className="tweet__topics">
            {tweet.topics
              .filter((t) => !tweet.content.toLowerCase().includes(`#${t.toLowerCase()}`))
              .map((topic) => (
                <span key={topic} className="chip">
                  {topic}
                </span>
              ))}
          </div>
        )}
        <TypingIndicator names={typingNames} />
        <footer className="tweet__actions">
          {action("replies", "Reply", <ReplyIcon />, replying, () => onToggleReply(tweet.tweet_id), "reply")}
          {action("retweets", viewer.retweeted ? "Undo retweet" : "Retweet", <RetweetIcon />, viewer.retweeted, () => void toggle("retweet", "retweets", !viewer.retweeted), "retweet")}
          {action("likes", viewer.liked ? "Unlike" : "Like", <HeartIcon filled={viewer.liked} />, viewer.liked, () => void toggle("like", "likes", !viewer.liked), "like")}
          {action("bookmarks", viewer.bookmarked ? "Remove bookmark" : "Bookmark", <BookmarkIcon filled={viewer.bookmarked} />, viewer.bookmarked, () => void toggle("bookmark", "bookmarks", !viewer.bookmarked), "bookmark")}
        </footer>
        {replying && <ReplyBox tweet={tweet} onPosted={onPosted} onClose={() => onToggleReply(tweet.tweet_id)} />}
      </div>
    </article>
  );
});

export function NewTweetsButton({ count, onClick }: { count: number; onClick: () => void }) {
  if (count <= 0) return null;
  return (
    <div className="new-tweets">
      <button type="button" className="new-tweets__button" onClick={onClick} data-testid="load-new-tweets">
        <span className="new-tweets__arrow" aria-hidden="true">
          ↑
        </span>
        Load {count} new {count === 1 ? "tweet" : "tweets"}
      </button>
    </div>
  );
}

export function FeedSkeleton() {
  return (
    <>
      {[0, 1, 2].map((i) => (
        <div key={i} className="card tweet tweet--skeleton" aria-hidden="true">
          <span className="avatar skeleton" style={{ width: 44, height: 44 }} />
          <div className="tweet__main">
            <div className="skeleton skeleton--line" style={{ width: "35%" }} />
            <div className="skeleton skeleton--line" style={{ width: "92%" }} />
            <div className="skeleton skeleton--line" style={{ width: "70%" }} />
          </div>
        </div>
      ))}
    </>
  );
}
