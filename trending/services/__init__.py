"""The trending app's writes: the rolling counters, and the recompute that
stores, broadcasts and prunes (the only callers of the broadcast toolkit)."""

from .counters import topic_engagement_counted, topic_tweet_counted, tweet_topic_spellings
from .recompute import Refresh, trending_compute, trending_prune, trending_refresh

__all__ = [
    "Refresh",
    "topic_engagement_counted",
    "topic_tweet_counted",
    "trending_compute",
    "trending_prune",
    "trending_refresh",
    "tweet_topic_spellings",
]
