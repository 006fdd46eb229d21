"""What a tweet's text says: its #hashtags and @mentions."""

import re
import unicodedata

# A hashtag starts at a '#' that does not follow a word character, '#', '&'
# or '/' (so "a#b", "C##", "&#39;" and URL fragments ("/#top") do not count);
# hashtags() finds where it ends: letters, digits, '_' and combining marks of
# any script, ended by punctuation, symbols or space.
HASHTAG_START = re.compile(r"(?<![\w#&/])#")
HASHTAG_MAX_LENGTH = 50
# Zero-width non-joiner and joiner: parts of words in Persian and Indic scripts.
JOINERS = "\u200c\u200d"
# Django usernames may hold letters, digits and @.+-_; a trailing '.' is
# punctuation ("thanks @bob.").
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")

MAX_TOPICS = 10
MAX_MENTIONS = 10


def topic_key(topic: str) -> str:
    """Return the canonical key of a topic: `#AI`, `ai`, `Ai` and `#ＡＩ` are one topic.

    NFKC folds compatibility forms (full-width letters, ligatures) and
    composes accents, so that case folding then makes "Straße" and "STRASSE"
    one as well.
    """
    text = unicodedata.normalize("NFKC", topic.strip().lstrip("#"))
    return unicodedata.normalize("NFKC", text.casefold())


def hashtags(content: str) -> list[str]:
    """Return the #hashtags of `content` in order, without the '#'.

    Python's `\\w` stops at a combining mark, which would cut "#हिंदी" to
    "ह" and a decomposed "#été" to "e": marks and joiners continue a hashtag.
    """
    content = unicodedata.normalize("NFC", content)
    found = []
    for match in HASHTAG_START.finditer(content):
        end = match.end()
        while end < len(content) and _continues_hashtag(content[end]):
            end += 1
        tag = content[match.end() : end].strip(JOINERS)
        if tag and not unicodedata.category(tag[0]).startswith("M"):
            found.append(tag[:HASHTAG_MAX_LENGTH])
    return found


def _continues_hashtag(char: str) -> bool:
    return (
        char.isalnum()
        or char == "_"
        or char in JOINERS
        or unicodedata.category(char).startswith("M")
    )


def tweet_topics(content: str, explicit: list[str] | None = None) -> list[str]:
    """Return a tweet's topics: `explicit` then its #hashtags, one per key,
    in the spelling first met, at most MAX_TOPICS."""
    seen: dict[str, str] = {}
    for raw in [*(explicit or []), *hashtags(content)]:
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
