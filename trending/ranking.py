"""The trending figures, computed from the tweets of two adjacent windows.

For one topic over the current window (default 60 minutes):
- tweet_count: tweets carrying the topic.
- engagement_score: 10 * e / (e + 5), e = (likes + retweets + replies +
  bookmarks) per tweet; 0 for no engagement, 5.0 at 5 per tweet, near 10 above.
- growth_rate: (current - previous) / max(previous, 1), previous being the
  count in the window before; a new topic grows by its own count.
Ranked by tweet_count, then engagement_score, then name.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from feed.parsing import topic_key


@dataclass
class TopicTally:
    tweets: int = 0
    engagements: int = 0
    spellings: Counter = field(default_factory=Counter)


def tally(rows: Iterable[tuple[list[str], int]]) -> dict[str, TopicTally]:
    """Count tweets and engagements per topic key from (topics, engagements) rows."""
    tallies: dict[str, TopicTally] = defaultdict(TopicTally)
    for topics, engagements in rows:
        for spelling in set(topics or []):
            entry = tallies[topic_key(spelling)]
            entry.tweets += 1
            entry.engagements += engagements
            entry.spellings[spelling] += 1
    return tallies


def engagement_score(*, engagements: int, tweets: int) -> float:
    per_tweet = engagements / tweets if tweets else 0.0
    return round(10 * per_tweet / (per_tweet + 5), 1)


def growth_rate(*, current: int, previous: int) -> float:
    return round((current - previous) / max(previous, 1), 2)


def rank(
    current: dict[str, TopicTally], previous: dict[str, TopicTally], *, limit: int
) -> list[dict]:
    """The top `limit` topics with their figures, best first."""
    figures = []
    for key, entry in current.items():
        # The most used spelling wins; ties go to the alphabetically first.
        spelling = min(entry.spellings.items(), key=lambda item: (-item[1], item[0]))[0]
        figures.append(
            {
                "topic": spelling,
                "tweet_count": entry.tweets,
                "engagement_score": engagement_score(
                    engagements=entry.engagements, tweets=entry.tweets
                ),
                "growth_rate": growth_rate(
                    current=entry.tweets,
                    previous=previous[key].tweets if key in previous else 0,
                ),
            }
        )
    figures.sort(key=lambda f: (-f["tweet_count"], -f["engagement_score"], f["topic"].casefold()))
    return figures[:limit]
