"""What a tweet's text says: its #hashtags and @mentions."""

import re

# A hashtag is word characters (any script) after '#'; punctuation ends it.
# The look-behind keeps "a#b", "C##" and URL fragments ("/#top") from counting.
HASHTAG = re.compile(r"(?<![\w#&/])#(\w{1,50})")
# Django usernames may hold letters, digits and @.+-_; a trailing '.' is
# punctuation ("thanks @bob.").
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")

MAX_TOPICS = 10
MAX_MENTIONS = 10


def topic_key(topic: str) -> str:
    """Return the canonical key of a topic: `#AI`, `ai` and `Ai` are one topic."""
    return topic.strip().lstrip("#").casefold()


def tweet_topics(content: str, explicit: list[str] | None = None) -> list[str]:
    """Return a tweet's topics: `explicit` then its #hashtags, one per key,
    in the spelling first met, at most MAX_TOPICS."""
    seen: dict[str, str] = {}
    for raw in [*(explicit or []), *HASHTAG.findall(content)]:
        spelling = raw.strip().lstrip("#").strip()
        key = topic_key(spelling)
        if key and key not in seen:
            seen[key] = spelling
    return list(seen.values())[:MAX_TOPICS]


def mentioned_usernames(content: str) -> list[str]:
    """Return the distinct usernames written as `@name` in `content`."""
    names: dict[str, str] = {}
    for raw in MENTION.findall(content):
        name = raw.rstrip(".")
        if name:
            names.setdefault(name.casefold(), name)
    return list(names.values())[:MAX_MENTIONS]
