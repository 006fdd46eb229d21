"""Text people read: reject what renders as nothing, or as something else.

Zero-width characters and a byte-order mark render as nothing, so a tweet
or name made only of them looks empty; bidirectional controls (U+202A-E,
U+2066-9) reorder what follows them, so "alice" can be shown as "ecila".
"""

import unicodedata

from django.core.exceptions import ValidationError

# Embeddings, overrides and isolates. The plain marks (U+200E, U+200F) only
# nudge neutral characters and are left alone.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _invisible(char: str) -> bool:
    # Cf: format characters (zero-width space/joiners, BOM, soft hyphen, ...).
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc", "Zs", "Zl", "Zp")


def visible_text(value: str, *, field: str = "text") -> str:
    """Return `value` normalised (NFC); raise ValidationError if it holds a
    bidirectional control or nothing visible."""
    value = unicodedata.normalize("NFC", value)
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(f"The {field} may not contain bidirectional control characters.")
    if all(_invisible(char) for char in value):
        raise ValidationError(f"The {field} has no visible characters.")
    return value
