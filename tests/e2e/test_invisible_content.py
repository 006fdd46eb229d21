"""Issue 16, hostile clients: tweets that show nothing, or show something
other than what they hold, are refused by the live server.

A tweet of only zero-width characters, Hangul fillers or a blank Braille
pattern reaches every follower's feed as an empty post; one with a
right-to-left override shows "@alice override" as "ecila@ edirrevo". Each is
answered 400 with a field error, no tweet is stored, and nothing reaches a
follower's feed socket: the next thing it gets is the next readable tweet.
"""

import json

import pytest

from .helpers import assert_envelope, assert_tweet, ping, recv_json

pytestmark = pytest.mark.asyncio

# (what it is, JSON body as sent, field that must carry the error)
UNREADABLE = [
    ("zero-width spaces", {"content": "\u200b\u200b\u200b"}, "content"),
    ("byte-order mark", {"content": "\ufeff"}, "content"),
    ("zero-width joiners and spaces", {"content": " \u200d \u2060 "}, "content"),
    ("right-to-left override", {"content": "\u202eecila@ edirrevo-OLR"}, "content"),
    ("right-to-left isolate", {"content": "look: \u2067123\u2069"}, "content"),
    ("hangul filler", {"content": "\u3164\u3164"}, "content"),
    ("halfwidth hangul filler", {"content": "\uffa0"}, "content"),
    ("hangul choseong filler", {"content": "\u115f"}, "content"),
    ("braille pattern blank", {"content": "\u2800\u2800\u2800"}, "content"),
    ("combining marks alone", {"content": "\u0301\u0301\u0308"}, "content"),
    ("terminal escape", {"content": "\x1b[2Jgone"}, "content"),
    ("invisible topic", {"content": "fine text", "topics": ["\u200b"]}, "topics"),
    ("overriding topic", {"content": "fine text", "topics": ["\u202eIA"]}, "topics"),
    ("blank topic", {"content": "fine text", "topics": ["\u3164"]}, "topics"),
]


def raw_json(body: dict) -> str:
    # ASCII escapes, so the bytes on the wire are those a hostile client would
    # type by hand; the server decodes them to the same characters.
    return json.dumps(body, ensure_ascii=True)


async def test_tweets_that_show_nothing_or_reorder_text_are_refused_and_never_broadcast(
    live_server,
):
    author, follower = live_server.register("Ada Author"), live_server.register()
    live_server.follow(follower, author)
    async with live_server.connect(f"/ws/feed/{follower.user_id}", follower.token) as feed:
        await ping(feed)  # joined: a tweet from now on would reach it
        answers = {
            name: live_server.api("POST", "/api/tweets/", author.token, raw_body=raw_json(body))
            for name, body, _ in UNREADABLE
        }
        # A lone surrogate: a valid JSON escape with no UTF-8 form to store.
        answers["lone surrogate"] = live_server.api(
            "POST", "/api/tweets/", author.token, raw_body='{"content": "hi \\ud800"}'
        )
        fields = {name: field for name, _, field in UNREADABLE} | {"lone surrogate": "content"}
        wrong = {
            name: answer
            for name, answer in answers.items()
            if not (
                answer[0] == 400
                and isinstance(answer[1], dict)
                and isinstance(answer[1].get(fields[name]), list)
                and answer[1][fields[name]]
            )
        }
        assert not wrong, f"not a 400 with a field error: {wrong}"

        status, timeline = live_server.api("GET", "/api/feed/", follower.token)
        assert status == 200 and timeline["results"] == [], timeline

        readable = live_server.post_tweet(author, "now something you can read")
        # The very next frame: nothing was broadcast for the refused ones.
        data = assert_envelope(await recv_json(feed), "feed_update")
        assert [tweet["tweet_id"] for tweet in data["tweets"]] == [readable["tweet_id"]], data
        assert_tweet(data["tweets"][0], author=author, content="now something you can read")


async def test_hashtags_of_blank_characters_are_not_topics(live_server):
    author = live_server.register()
    tweet = live_server.post_tweet(author, "#\u3164\u3164 and #ok\u3164 and #ai #a\u034fi")
    # A tag of only fillers is none, fillers end a hashtag (#ok), and a
    # grapheme joiner inside "ai" does not make a second, look-alike topic.
    assert tweet["topics"] == ["ok", "ai"], tweet
