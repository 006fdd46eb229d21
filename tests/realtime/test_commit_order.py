"""Broadcasts of streamed rows leave a process in the order of the rows' ids.

Requests run in threads of their own. If one request's on-commit send is
slow and another commits meanwhile, the second must not overtake it: a
client that got tweet 44 before 43 and then disconnected would resume with
`since=44` and never see 43.
"""

import json
import threading
import time

import pytest
from django.db import connection

from feed import services as feed_services
from realtime_project.realtime.events import broadcast, ordering

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target, *args, **kwargs) -> threading.Thread:
    def run():
        try:
            target(*args, **kwargs)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_tweet_committed_during_anothers_broadcast_is_sent_after_it(monkeypatch, alice, bob, online):
    feed_services.follow_create(follower=bob, followee=alice)
    online(bob)
    sent: list[str] = []
    first_is_sending = threading.Event()

    def slow_send_of_the_first(groups, message):
        tweet = json.loads(message["text"])["data"]["tweets"][0]
        if tweet["content"] == "first":
            first_is_sending.set()
            time.sleep(0.3)  # a slow channel layer, a descheduled thread
        sent.append(tweet["content"])

    monkeypatch.setattr(broadcast, "send_to_groups", slow_send_of_the_first)

    first = in_thread(feed_services.tweet_create, author=alice, content="first")
    assert first_is_sending.wait(5)
    second = in_thread(feed_services.tweet_create, author=alice, content="second")
    first.join(5)
    second.join(5)

    assert sent == ["first", "second"]


def test_nested_in_an_open_transaction_it_takes_no_lock(alice):
    # Taking the lock after writing could deadlock with a thread that holds
    # it and waits for our database lock; the outer block decides anyway.
    from django.db import transaction

    with transaction.atomic():
        with ordering.atomic_in_commit_order():
            assert not ordering._commit_order.locked()
    with ordering.atomic_in_commit_order():
        assert ordering._commit_order.locked()
    assert not ordering._commit_order.locked()
