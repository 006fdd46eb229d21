"""What realtime_project.visible_text lets through: text a reader can see,
and nothing that reorders or hides what is around it. Pure validation, so
in-process; the live-server tests are tests/e2e/test_invisible_content.py."""

import pytest
from django.core.exceptions import ValidationError

from realtime_project.visible_text import visible_text

# Each renders as nothing, or as blank space, in common fonts.
INVISIBLE = {
    "zero-width spaces": "\u200b\u200b\u200b",
    "byte-order mark": "\ufeff",
    "word joiner and zero-width non-joiner": "\u2060\u200c\u200d",
    "soft hyphen": "\u00ad",
    "left-to-right marks": "\u200e\u200f",
    "hangul filler": "\u3164",
    "hangul choseong filler": "\u115f",
    "hangul jungseong filler": "\u1160",
    "halfwidth hangul filler": "\uffa0",
    "braille pattern blank": "\u2800\u2800",
    "musical null notehead": "\U0001d159",
    "ideographic and no-break spaces": "\u3000\u00a0\u2007",
    "line and paragraph separators": "\u2028\u2029",
    "variation selectors": "\ufe0f\U000e0100",
    "tag characters": "\U000e0041\U000e0042\U000e007f",
    "combining grapheme joiner": "\u034f",
    "mongolian vowel separator": "\u180e",
    "blanks mixed": " \u200b\u3164 \u2800\ufeff\n\t",
    "combining marks without a base": "\u0301\u0308\u20dd",
}

BIDI = {
    "right-to-left override": "\u202eecila@",
    "left-to-right override": "\u202dabc",
    "embedding": "abc\u202bdef\u202c",
    "isolates": "\u2066a\u2069 \u2067b\u2069 \u2068c\u2069",
}

CONTROLS = {
    "NUL": "a\x00b",
    "terminal escape": "\x1b[2J\x1b[31mred",
    "bell": "ding\x07",
    "C1 control": "next\x85line",
    "delete": "oops\x7f",
}


@pytest.mark.parametrize("value", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_text_of_only_blank_characters_is_refused(value):
    with pytest.raises(ValidationError, match="has no visible characters"):
        visible_text(value, field="tweet")


@pytest.mark.parametrize("value", BIDI.values(), ids=BIDI.keys())
def test_bidirectional_controls_are_refused_even_among_visible_text(value):
    with pytest.raises(ValidationError, match="bidirectional control"):
        visible_text(value, field="tweet")


@pytest.mark.parametrize("value", CONTROLS.values(), ids=CONTROLS.keys())
def test_control_characters_other_than_tab_and_newline_are_refused(value):
    with pytest.raises(ValidationError, match="control characters"):
        visible_text(value, field="tweet")


def test_a_lone_surrogate_is_refused_not_a_server_error():
    # What json.loads makes of "\ud800": no UTF-8 encoding exists for it.
    with pytest.raises(ValidationError, match="not valid Unicode"):
        visible_text("hi \ud800", field="tweet")


@pytest.mark.parametrize(
    "value",
    [
        "hello",
        "a",
        "#",
        "👍",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England's flag
        "👩\u200d💻",
        "שלום עולם",
        "مرحبا\u200f!",  # a right-to-left mark only nudges the '!'
        "می\u200cخواهم",  # the non-joiner is part of the Persian word
        "हिंदी",
        "한국어",
        "line one\nline two\ttabbed\r\n",
        "\u200bhidden padding around a word\u200b",
    ],
)
def test_ordinary_text_of_any_script_is_accepted(value):
    assert visible_text(value, field="tweet") == value


def test_text_is_returned_composed():
    assert visible_text("e\u0301te\u0301", field="tweet") == "\u00e9t\u00e9"


def test_a_mark_on_a_visible_base_counts_as_visible():
    assert visible_text("a\u0301", field="tweet") == "\u00e1"


def test_the_message_names_the_field():
    with pytest.raises(ValidationError) as refused:
        visible_text("\u200b", field="display name")
    assert refused.value.messages == ["The display name has no visible characters."]
