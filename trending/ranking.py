"""The trending figures and the rank order, defined once (pure, no database).

For one topic, with T its tweets in the current window, P its tweets in the
previous window and E the engagements (likes, retweets, bookmarks, replies)
made in the current window on tweets that carry it:

- tweet_count      = T
- engagement_score = 10 * e / (e + 5), e = E / T, rounded to 0.1:
                     0 without engagement, 5.0 at 5 per tweet, toward 10 above.
- growth_rate      = (T - P) / max(P, 1), rounded to 0.01: +0.5 is 50% more
                     than the previous window; a new topic (P = 0) grows by T,
                     as if it had had one tweet before; -0.75 is a fading one.
- rank_score       = ln(1 + T) * sqrt((T + m) / (P + m)) * (1 + engagement_score / 10)
                     volume (logarithmic), velocity (growth, smoothed by the
                     minimum support m so that a few new tweets are not an
                     infinite rise) and engagement (at most doubles the score).

Only topics with T >= m (the minimum support, TRENDING_MIN_TWEETS) are
ranked, so one tweet with a burst of likes never trends on its own; best
rank_score first, then more tweets, then the topic first seen.
"""

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

# Engagements per tweet that score 5.0 (half of the 0-10 scale).
ENGAGEMENT_HALF_SCORE = 5


class TopicTally(NamedTuple):
    """What the counters say about one topic over the two windows."""

    topic_id: int
    tweets: int
    engagements: int
    previous: int


@dataclass(frozen=True)
class RankedTopic:
    tally: TopicTally
    engagement_score: float
    growth_rate: float
    rank_score: float

    def figures(self, *, spelling: str) -> dict:
        """The topic as the `trending` message shows it (SEED.md's fields)."""
        return {
            "topic": spelling,
            "tweet_count": self.tally.tweets,
            "engagement_score": self.engagement_score,
            "growth_rate": self.growth_rate,
        }

    def details(self, *, key: str) -> dict:
        """What the rank was computed from, for the admin and for debugging."""
        return {
            "key": key,
            "rank_score": round(self.rank_score, 4),
            "previous_count": self.tally.previous,
            "engagements": self.tally.engagements,
        }


def engagement_score(*, engagements: int, tweets: int) -> float:
    per_tweet = max(engagements, 0) / tweets if tweets > 0 else 0.0
    return round(10 * per_tweet / (per_tweet + ENGAGEMENT_HALF_SCORE), 1)


def growth_rate(*, current: int, previous: int) -> float:
    return round((current - previous) / max(previous, 1), 2)


def rank_score(*, tweets: int, previous: int, engagement: float, min_tweets: int) -> float:
    velocity = math.sqrt((tweets + min_tweets) / (previous + min_tweets))
    return math.log1p(tweets) * velocity * (1 + engagement / 10)


def rank(tallies: Iterable[TopicTally], *, limit: int, min_tweets: int) -> list[RankedTopic]:
    """Return the best `limit` topics having at least `min_tweets` tweets, best first."""
    min_tweets = max(min_tweets, 1)
    scored = []
    for tally in tallies:
        if tally.tweets < min_tweets:
            continue
        engagement = engagement_score(engagements=tally.engagements, tweets=tally.tweets)
        score = rank_score(
            tweets=tally.tweets,
            previous=tally.previous,
            engagement=engagement,
            min_tweets=min_tweets,
        )
        scored.append((-score, -tally.tweets, tally.topic_id, engagement, tally))
    # Only the winners get their full figures: a recompute may weigh every topic.
    return [
        RankedTopic(
            tally=tally,
            engagement_score=engagement,
            growth_rate=growth_rate(current=tally.tweets, previous=tally.previous),
            rank_score=-negative_score,
        )
        for negative_score, _, _, engagement, tally in heapq.nsmallest(limit, scored)
    ]


def most_used_spelling(uses: dict[str, int]) -> str:
    """Return the spelling used most; a tie goes to the first in code-point order."""
    return min(uses.items(), key=lambda item: (-item[1], item[0]))[0]
