from feed.parsing import mentioned_usernames, topic_key, tweet_topics


def test_hashtags_join_explicit_topics_once_per_case_folded_key():
    assert tweet_topics("Big day for #AI and #ai, also #Startups", ["Ai"]) == ["Ai", "Startups"]


def test_punctuation_ends_a_hashtag_and_unicode_is_kept():
    assert tweet_topics("#café! #日本語, #rust-lang (#Go)") == ["café", "日本語", "rust", "Go"]


def test_hash_inside_a_word_or_url_is_not_a_hashtag():
    assert tweet_topics("C# and a#b and http://x.io/#anchor") == []


def test_topic_key_ignores_hash_and_case():
    assert topic_key("#AI") == topic_key("ai") == topic_key(" Ai ") == "ai"


def test_mentions_are_distinct_and_drop_trailing_punctuation():
    assert mentioned_usernames("thanks @bob. and @Bob, @carol_x! mail@example.com") == [
        "bob",
        "carol_x",
    ]
