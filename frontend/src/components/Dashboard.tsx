import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { Api } from "../../lib/api";
import type { EngagementCounts, Me, Tweet, UserSummary } from "../../lib/types";
import { sortNewestFirst, useFeedUpdates, useNotifications, useWebSocketClient } from "../../lib/use-websocket";
import { AppContext, type AppContextValue, type Toast } from "../app-context";
import { loadViewerState, saveViewerState, viewerOf, withViewer, type EngagementKind } from "../viewer-state";
import { Composer, FeedSkeleton, NewTweetsButton, TweetCard } from "./Feed";
import { LiveStats, ProfileCard, TrendingWidget, WhoToFollow } from "./Sidebar";
import { notificationText, TopBar } from "./TopBar";

function mergeTweets(current: Tweet[], incoming: Tweet[]): Tweet[] {
  const byId = new Map(current.map((t) => [t.tweet_id, t]));
  for (const tweet of incoming) byId.set(tweet.tweet_id, { ...byId.get(tweet.tweet_id), ...tweet });
  return sortNewestFirst([...byId.values()], (t) => t.tweet_id);
}

function useToasts() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const toast = useCallback((text: string, tone: Toast["tone"] = "info") => {
    const id = nextId.current++;
    setToasts((list) => [...list.slice(-2), { id, text, tone }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), 4500);
  }, []);
  return { toasts, toast };
}

export function Dashboard({ api, me, onSignedOut }: { api: Api; me: Me; onSignedOut: () => void }) {
  const client = useWebSocketClient();
  const { toasts, toast } = useToasts();
  const [tweets, setTweets] = useState<Tweet[]>([]);
  const [nextPage, setNextPage] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [feedError, setFeedError] = useState<string | null>(null);
  const [replyingTo, setReplyingTo] = useState<string | null>(null);
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const [panelOpen, setPanelOpen] = useState(false);
  const [viewerStore, setViewerStore] = useState(() => loadViewerState(me.user_id));

  useEffect(() => saveViewerState(me.user_id, viewerStore), [me.user_id, viewerStore]);

  const loadFeed = useCallback(async () => {
    try {
      const page = await api.feed();
      setTweets((current) => mergeTweets(current, page.results));
      setNextPage((current) => current ?? page.next);
      setFeedError(null);
    } catch (error) {
      setFeedError(error instanceof Error ? error.message : "Could not load your feed.");
    } finally {
      setLoading(false);
    }
  }, [api]);

  useEffect(() => {
    void loadFeed();
  }, [loadFeed]);

  // A socket refused as "not authenticated": the session ended (signed out elsewhere, expired).
  useEffect(
    () =>
      client.on("closed", (change) => {
        if (change.code === 4401) api.me().catch(() => onSignedOut());
      }),
    [client, api, onSignedOut],
  );

  const notifications = useNotifications(me.user_id, {
    onLive: (n) => toast(`${n.actor_name} ${notificationText(n)}`),
  });

  // The feed stream opens once the first page has been read, resuming after
  // its newest tweet ("0": an empty feed): a tweet committed between that
  // read and the stream's subscription is replayed, not lost.
  const newest = tweets[0]?.tweet_id ?? "0";
  const feedUpdates = useFeedUpdates(loading ? null : me.user_id, { since: newest });
  const shownIds = useMemo(() => new Set(tweets.map((t) => t.tweet_id)), [tweets]);
  const pending = feedUpdates.newTweets.filter((t) => !shownIds.has(t.tweet_id));
  const tweetsById = useMemo(() => new Map(tweets.map((t) => [t.tweet_id, t])), [tweets]);

  const showNewTweets = useCallback(() => {
    setTweets((current) => mergeTweets(current, feedUpdates.flush()));
    window.scrollTo({ top: 0, behavior: "smooth" });
  }, [feedUpdates]);

  const addOwnTweet = useCallback((tweet: Tweet) => {
    setTweets((current) => mergeTweets(current, [tweet]));
  }, []);

  const onEngage = useCallback(
    async (tweet: Tweet, kind: EngagementKind, on: boolean): Promise<EngagementCounts | null> => {
      setViewerStore((store) => withViewer(store, tweet.tweet_id, kind, on));
      try {
        const result = await api.engage(tweet.tweet_id, kind, on);
        return result.engagement;
      } catch (error) {
        setViewerStore((store) => withViewer(store, tweet.tweet_id, kind, !on));
        toast(error instanceof Error ? error.message : "That did not work.", "error");
        return null;
      }
    },
    [api, toast],
  );

  const onToggleReply = useCallback((tweetId: string) => {
    setReplyingTo((current) => (current === tweetId ? null : tweetId));
  }, []);

  const onFollowChange = useCallback(
    (user: UserSummary, following: boolean) => {
      if (following) {
        toast(`You follow ${user.display_name} now`);
        void loadFeed();
      } else {
        setTweets((current) => current.filter((t) => t.author_id !== user.user_id));
      }
    },
    [loadFeed, toast],
  );

  const openTweet = useCallback(
    async (tweetId: string) => {
      setPanelOpen(false);
      if (!tweetsById.has(tweetId)) {
        try {
          const tweet = await api.tweet(tweetId);
          setTweets((current) => mergeTweets(current, [tweet]));
        } catch {
          toast("That tweet is no longer available.", "error");
          return;
        }
      }
      setHighlighted(tweetId);
      requestAnimationFrame(() =>
        document.getElementById(`tweet-${tweetId}`)?.scrollIntoView({ behavior: "smooth", block: "center" }),
      );
      setTimeout(() => setHighlighted((current) => (current === tweetId ? null : current)), 2500);
    },
    [api, toast, tweetsById],
  );

  async function loadMore() {
    if (!nextPage) return;
    setLoadingMore(true);
    try {
      const page = await api.feed(nextPage);
      setTweets((current) => mergeTweets(current, page.results));
      setNextPage(page.next);
    } catch (error) {
      toast(error instanceof Error ? error.message : "Could not load more.", "error");
    } finally {
      setLoadingMore(false);
    }
  }

  async function logout() {
    try {
      await api.logout();
    } catch {
      // Signed out on this page either way.
    }
    client.unsubscribeAll();
    onSignedOut();
  }

  const context: AppContextValue = useMemo(() => ({ api, me, toast }), [api, me, toast]);

  return (
    <AppContext.Provider value={context}>
      <div className="app">
        <TopBar
          me={me}
          onLogout={() => void logout()}
          notificationCenter={{
            ...notifications,
            tweetsById,
            onOpenTweet: (id) => void openTweet(id),
            open: panelOpen,
            setOpen: setPanelOpen,
          }}
        />
        <main className="layout">
          <aside className="col col--left">
            <ProfileCard me={me} unreadCount={notifications.unreadCount} onOpenNotifications={() => setPanelOpen(true)} />
            <LiveStats />
          </aside>

          <section className="col col--center" aria-label="Home timeline">
            <h1 className="col__title">Home</h1>
            <Composer onPosted={addOwnTweet} />
            <NewTweetsButton count={pending.length} onClick={showNewTweets} />
            {loading && <FeedSkeleton />}
            {feedError && !tweets.length && (
              <div className="card empty">
                <strong>Your feed could not be loaded</strong>
                <span className="muted">{feedError}</span>
                <button type="button" className="button button--outline" onClick={() => void loadFeed()}>
                  Try again
                </button>
              </div>
            )}
            {!loading && !feedError && tweets.length === 0 && (
              <div className="card empty" data-testid="feed-empty">
                <strong>Welcome to Pulse, {me.display_name}!</strong>
                <span className="muted">
                  Your timeline fills up with tweets from people you follow. Pick a few from “Who to follow”, or post
                  your first tweet above.
                </span>
              </div>
            )}
            <div className="feed" data-testid="feed">
              {tweets.map((tweet) => (
                <TweetCard
                  key={tweet.tweet_id}
                  tweet={tweet}
                  parentAuthor={tweet.reply_to ? tweetsById.get(tweet.reply_to)?.author_name : undefined}
                  viewer={viewerOf(viewerStore, tweet)}
                  replying={replyingTo === tweet.tweet_id}
                  highlighted={highlighted === tweet.tweet_id}
                  onToggleReply={onToggleReply}
                  onEngage={onEngage}
                  onPosted={addOwnTweet}
                />
              ))}
            </div>
            {nextPage && tweets.length > 0 && (
              <button type="button" className="button button--outline button--block" onClick={() => void loadMore()} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Show older tweets"}
              </button>
            )}
          </section>

          <aside className="col col--right">
            <TrendingWidget />
            <WhoToFollow onFollowChange={onFollowChange} />
            <footer className="footer muted">Pulse · real-time over WebSockets</footer>
          </aside>
        </main>
        <div className="toasts" aria-live="polite">
          {toasts.map((t) => (
            <div key={t.id} className={`toast toast--${t.tone ?? "info"}`} data-testid="toast">
              {t.text}
            </div>
          ))}
        </div>
      </div>
    </AppContext.Provider>
  );
}
