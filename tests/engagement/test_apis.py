import pytest

from feed import services as feed_services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "action, counter", [("like", "likes"), ("retweet", "retweets"), ("bookmark", "bookmarks")]
)
def test_engage_and_undo_return_the_counts(api_for, alice, bob, action, counter):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    url = f"/api/tweets/{tweet.pk}/{action}/"
    response = api_for(bob).post(url)
    assert response.status_code == 200
    assert response.json()["tweet_id"] == str(tweet.pk)
    assert response.json()["engagement"][counter] == 1
    assert api_for(bob).post(url).json()["engagement"][counter] == 1
    assert api_for(bob).delete(url).json()["engagement"][counter] == 0
    assert api_for(bob).delete(url).json()["engagement"][counter] == 0
