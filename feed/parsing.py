"""What a tweet's text says: its #hashtags and @mentions."""

import re
import unicodedata

from realtime_project.visible_text import (
    BIDI_CONTROLS,
    has_visible,
    is_blank,
    is_default_ignorable,
)

# A hashtag starts at a '#' that does not follow a word character, '#', '&'
# or '/' (so "a#b", "C##", "&#39;" and URL fragments ("/#top") do not count);
# hashtags() finds where it ends: letters, digits, '_' and combining marks of
# any script, ended by punctuation, symbols, space or blank characters (the
# Hangul fillers are letters to Unicode, but "#\u3164" shows as a bare "#").
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
    one as well. Characters a renderer may show as nothing (joiners,
    variation selectors, fillers) are left out: spellings that differ only
    in them look alike, and must not be two topics side by side in trending.
    """
    text = unicodedata.normalize("NFKC", topic.strip().lstrip("#"))
    text = unicodedata.normalize("NFKC", text.casefold())
    return "".join(char for char in text if not is_default_ignorable(char))


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
    if char in JOINERS or unicodedata.category(char).startswith("M"):
        return True
    return (char.isalnum() or char == "_") and not is_blank(char)


def tweet_topics(content: str, explicit: list[str] | None = None) -> list[str]:
    """Return a tweet's topics: `explicit` then its #hashtags, one per key,
    in the spelling first met, at most MAX_TOPICS.

    A topic that shows nothing, or holds a bidirectional control, is left
    out: tweet_create refuses such explicit topics, but the admin and rows
    saved before it did reach this too, and trending must not show them.
    """
    seen: dict[str, str] = {}
    for raw in [*(explicit or []), *hashtags(content)]:
        spelling = raw.strip().lstrip("#").strip()
        if not has_visible(spelling) or any(char in BIDI_CONTROLS for char in spelling):
            continue
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
