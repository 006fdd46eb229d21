"""The admin stores only tweets the API would: readable ones."""

import pytest

from feed.models import Tweet

pytestmark = pytest.mark.django_db


def add_tweet(admin_client, author, content):
    return admin_client.post(
        "/admin/feed/tweet/add/",
        {
            "author": author.pk,
            "content": content,
            "topics": "[]",
            "created_at_0": "2026-12-01",
            "created_at_1": "10:00:00",
        },
    )


@pytest.mark.parametrize("content", ["\u200b\u200b\u200b", "\ufeff", "\u202eecila@ edirrevo"])
def test_admin_refuses_a_tweet_that_shows_nothing_or_reorders_text(admin_client, alice, content):
    response = add_tweet(admin_client, alice, content)
    assert response.status_code == 200  # the form again, with its error
    assert not Tweet.objects.exists()


def test_admin_adds_a_readable_tweet(admin_client, alice):
    response = add_tweet(admin_client, alice, "hello from the admin")
    assert response.status_code == 302, response.content[:2000]
    assert Tweet.objects.get().content == "hello from the admin"
