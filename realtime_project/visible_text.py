"""Text people read: reject what renders as nothing, or as something else.

Zero-width characters and a byte-order mark render as nothing, so a tweet
or name made only of them looks empty; bidirectional controls (U+202A-E,
U+2066-9) reorder what follows them, so "alice" can be shown as "ecila".
Filters that look only for spaces and format characters miss the Hangul
fillers and the blank Braille pattern, which Unicode files as a letter and a
symbol: they are the usual way to post "nothing" past such a filter.
"""

import unicodedata

from django.core.exceptions import ValidationError

# Embeddings, overrides and isolates. The plain marks (U+200E, U+200F, U+061C)
# only nudge neutral characters and are left alone.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# The whitespace controls of ordinary text. Any other control (NUL, which
# PostgreSQL cannot store; ESC, which starts a terminal escape sequence in a
# log or a shell; the C1 block) has no place in what people type.
TEXT_CONTROLS = frozenset("\t\n\r")

# Letters and symbols that render as blank space by design: the Hangul
# fillers (which pad incomplete syllables), the blank Braille pattern, the
# musical null notehead.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\U0001d159")

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), which
# unicodedata does not expose: what a renderer shows nothing for when it has
# no glyph. Most are format characters; these ranges also hold the variation
# selectors, the grapheme joiner and the fillers, which are not.
DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_default_ignorable(char: str) -> bool:
    """Whether `char` is one a renderer may show as nothing at all."""
    code = ord(char)
    return any(low <= code <= high for low, high in DEFAULT_IGNORABLE_RANGES)


def is_blank(char: str) -> bool:
    """Whether `char` renders as nothing, or as empty space."""
    category = unicodedata.category(char)
    # Cf: format characters (zero-width space/joiners, BOM, soft hyphen, tags).
    # Cc: controls (only TEXT_CONTROLS get past visible_text).
    return category in ("Cf", "Cc", "Zs", "Zl", "Zp") or char in BLANK_GLYPHS or is_default_ignorable(char)


def shows_alone(char: str) -> bool:
    """Whether `char` is something a reader sees by itself: not blank, and not
    a combining mark, which only decorates the character before it."""
    return not is_blank(char) and not unicodedata.category(char).startswith("M")


def has_visible(value: str) -> bool:
    """Whether `value` holds at least one character a reader can see."""
    return any(shows_alone(char) for char in value)


def visible_text(value: str, *, field: str = "text") -> str:
    """Return `value` normalised (NFC); raise ValidationError if it is not
    valid Unicode, holds a control character other than tab and newline, or a
    bidirectional control, or holds nothing visible (only blank characters
    and combining marks)."""
    if any(unicodedata.category(char) == "Cs" for char in value):
        # A lone surrogate (JSON's "\ud800") cannot be encoded as UTF-8: not
        # for the database, nor for the answer.
        raise ValidationError(f"The {field} is not valid Unicode text.", code="invalid_unicode")
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(char) == "Cc" and char not in TEXT_CONTROLS for char in value):
        raise ValidationError(f"The {field} may not contain control characters.", code="control_character")
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            f"The {field} may not contain bidirectional control characters.", code="bidi_control"
        )
    if not has_visible(value):
        raise ValidationError(f"The {field} has no visible characters.", code="invisible")
    return value
