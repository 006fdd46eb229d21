"""Usernames nobody can pass off as someone else's.

New usernames are ASCII letters, digits and `_ . + -`, as on Mastodon and X:
a username is shown in mentions, profile links and URLs, in fonts where
Cyrillic "а" and Latin "a" are the same picture, and no list of confusable
characters covers every script. ASCII still has look-alikes of its own
("aIice", "a1ice", "alice"; "rn" and "m"), so each username also has a
*skeleton*, what it looks like, and a new one whose skeleton an existing
user already has is refused. Display names may be in any script: they are
not identities, and the username is shown beside them.
"""

import re
import unicodedata

from django.core.validators import RegexValidator

from .models import UsernameSkeleton

# A subset of Django's ASCIIUsernameValidator: no "@", which starts a mention.
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.+-]+\Z")
username_characters = RegexValidator(
    USERNAME_PATTERN, "Letters (A-Z), digits and . + - _ only.", code="invalid"
)

SKELETON_MAX_LENGTH = 600  # UsernameSkeleton.skeleton
# After case folding: what is drawn alike in common sans-serif fonts. The
# Cyrillic and Greek ones match usernames from before new ones were ASCII.
_LOOKALIKE_CHARACTERS = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",  # a capital I, folded
        "|": "l",
        "ı": "l",
        "а": "a",
        "в": "b",
        "е": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "l",
        "ј": "j",
        "ԁ": "d",
        "ɡ": "g",
        "α": "a",
        "ε": "e",
        "ι": "l",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)
_LOOKALIKE_SEQUENCES = (("rn", "m"), ("vv", "w"))


def username_skeleton(username: str) -> str:
    """What `username` looks like: two usernames with the same skeleton can
    be taken for each other."""
    text = unicodedata.normalize("NFKC", username).casefold().translate(_LOOKALIKE_CHARACTERS)
    for sequence, lookalike in _LOOKALIKE_SEQUENCES:
        text = text.replace(sequence, lookalike)
    return text[:SKELETON_MAX_LENGTH]


def username_skeleton_store(*, user) -> None:
    """Record what `user`'s username looks like (after every change of it)."""
    UsernameSkeleton.objects.update_or_create(
        user_id=user.pk, defaults={"skeleton": username_skeleton(user.username)}
    )


def username_lookalike_exists(username: str) -> bool:
    """Whether an existing user's username looks like `username`."""
    return UsernameSkeleton.objects.filter(skeleton=username_skeleton(username)).exists()
