from feed.parsing import mentioned_usernames, topic_key, tweet_topics


def test_hashtags_join_explicit_topics_once_per_case_folded_key():
    assert tweet_topics("Big day for #AI and #ai, also #Startups", ["Ai"]) == ["Ai", "Startups"]


def test_punctuation_ends_a_hashtag_and_unicode_is_kept():
    assert tweet_topics("#café! #日本語, #rust-lang (#Go)") == ["café", "日本語", "rust", "Go"]


def test_hash_inside_a_word_or_url_is_not_a_hashtag():
    assert tweet_topics("C# and a#b and http://x.io/#anchor") == []


def test_topic_key_ignores_hash_and_case():
    assert topic_key("#AI") == topic_key("ai") == topic_key(" Ai ") == "ai"


def test_blank_hashtags_and_topics_are_not_topics():
    # Hangul fillers are letters to Unicode but render as blank space.
    assert tweet_topics("#\u3164\u3164 #ok\u3164 #\u2800", ["\u200b", "\u202eIA", "x"]) == [
        "x",
        "ok",
    ]


def test_spellings_differing_only_in_invisible_characters_are_one_topic():
    assert topic_key("a\u034fi") == topic_key("ai\ufe0f") == topic_key("AI") == "ai"
    assert tweet_topics("#ai #a\u034fi") == ["ai"]


def test_joiners_stay_part_of_a_hashtag():
    assert tweet_topics("#\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645") == [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    ]


def test_mentions_are_distinct_and_drop_trailing_punctuation():
    assert mentioned_usernames("thanks @bob. and @Bob, @carol_x! mail@example.com") == [
        "bob",
        "carol_x",
    ]
