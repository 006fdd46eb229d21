import pytest

from feed import services

pytestmark = pytest.mark.django_db


def test_post_tweet_returns_the_tweet(api_for, alice):
    response = api_for(alice).post(
        "/api/tweets/", {"content": "#AI and #ai rock", "topics": ["Ai"]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["author_id"] == str(alice.pk) and body["author_name"] == "Alice Founder"
    assert body["topics"] == ["Ai"]
    assert body["engagement"] == {"likes": 0, "replies": 0, "retweets": 0, "bookmarks": 0}
    assert api_for(alice).get(f"/api/tweets/{body['tweet_id']}/").json() == body


@pytest.mark.parametrize("content", ["", "   ", "x" * 281])
def test_empty_or_over_long_content_is_400_with_field_error(api_for, alice, content):
    response = api_for(alice).post("/api/tweets/", {"content": content}, format="json")
    assert response.status_code == 400
    assert "content" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"content": "hi", "reply_to": 424242},
        {"content": "hi", "reply_to": "abc"},
        {"content": "hi", "topics": "not-a-list"},
        {"content": ["a list"]},
        {},
    ],
)
def test_malformed_tweet_bodies_are_400(api_for, alice, body):
    assert api_for(alice).post("/api/tweets/", body, format="json").status_code == 400


def test_malformed_json_is_400(api_for, alice):
    response = api_for(alice).post("/api/tweets/", "{oops", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("tweet_id", ["424242", "abc", "99999999999999999999999"])
def test_unknown_tweet_is_404(api_for, alice, tweet_id):
    assert api_for(alice).get(f"/api/tweets/{tweet_id}/").status_code == 404
    assert api_for(alice).post(f"/api/tweets/{tweet_id}/like/").status_code == 404


def test_anonymous_requests_are_401(api_for):
    assert api_for().post("/api/tweets/", {"content": "hi"}, format="json").status_code == 401
    assert api_for().get("/api/feed/").status_code == 401


def test_follow_and_unfollow(api_for, alice, bob):
    response = api_for(bob).post(f"/api/users/{alice.pk}/follow/")
    assert response.status_code == 200 and response.json() == {"user_id": str(alice.pk), "following": True}
    assert api_for(bob).post(f"/api/users/{alice.pk}/follow/").status_code == 200
    response = api_for(bob).delete(f"/api/users/{alice.pk}/follow/")
    assert response.json() == {"user_id": str(alice.pk), "following": False}


def test_follow_self_is_400_and_unknown_user_404(api_for, alice):
    assert api_for(alice).post(f"/api/users/{alice.pk}/follow/").status_code == 400
    assert api_for(alice).post("/api/users/424242/follow/").status_code == 404
    assert api_for(alice).post("/api/users/x/follow/").status_code == 404


def test_feed_is_newest_first_with_followed_and_own_tweets_only(api_for, alice, bob, carol):
    services.follow_create(follower=alice, followee=bob)
    first = services.tweet_create(author=bob, content="first")
    services.tweet_create(author=carol, content="not followed")
    mine = services.tweet_create(author=alice, content="mine")
    body = api_for(alice).get("/api/feed/").json()
    assert [t["tweet_id"] for t in body["results"]] == [str(mine.pk), str(first.pk)]
    assert set(body) == {"next", "previous", "results", "viewer"}


def test_feed_pages_by_cursor(api_for, alice):
    for number in range(5):
        services.tweet_create(author=alice, content=f"tweet {number}")
    page = api_for(alice).get("/api/feed/?page_size=2").json()
    seen = [t["content"] for t in page["results"]]
    while page["next"]:
        page = api_for(alice).get(page["next"]).json()
        seen += [t["content"] for t in page["results"]]
    assert seen == [f"tweet {n}" for n in range(4, -1, -1)]


def test_user_list_says_whom_you_follow(api_for, alice, bob, carol):
    services.follow_create(follower=alice, followee=bob)
    body = api_for(alice).get("/api/users/").json()
    assert {u["username"]: u["following"] for u in body["results"]} == {"bob": True, "carol": False}


def test_timeline_says_what_the_viewer_did_beside_the_tweets(api_for, alice, bob):
    from engagement import services as engagement_services

    tweet = services.tweet_create(author=alice, content="like me")
    engagement_services.engagement_add(user=bob, tweet=tweet, kind="LIKE")
    engagement_services.engagement_add(user=bob, tweet=tweet, kind="BOOKMARK")
    engagement_services.engagement_add(user=alice, tweet=tweet, kind="RETWEET")
    services.follow_create(follower=bob, followee=alice)
    page = api_for(bob).get("/api/feed/").json()
    assert page["viewer"] == {str(tweet.pk): {"liked": True, "retweeted": False, "bookmarked": True}}
    assert "viewer" not in page["results"][0]
    assert page["results"][0]["engagement"]["likes"] == 1
    own = api_for(alice).get("/api/feed/").json()["viewer"][str(tweet.pk)]
    assert own == {"liked": False, "retweeted": True, "bookmarked": False}
