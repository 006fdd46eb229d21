"""Demo users, follows, tweets and engagement, so every stream has something to show.

It lives in the project package, not in an app, because it composes all four.
Running it again changes nothing: every row is looked up before it is made.
"""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.services import token_for
from engagement import services as engagement_services
from engagement.models import Engagement
from feed import services as feed_services
from feed.models import Tweet

DEMO_PASSWORD = "demo-password-2026"

USERS = [
    ("alice", "Alice Founder"),
    ("bob", "Bob Builder"),
    ("carol", "Carol Investor"),
    ("dave", ""),
]
FOLLOWS = [
    ("alice", "bob"),
    ("alice", "carol"),
    ("bob", "alice"),
    ("carol", "alice"),
    ("carol", "bob"),
    ("dave", "alice"),
]
TWEETS = [
    ("alice", "Just closed our seed round! #Startups #Fundraising", []),
    ("bob", "Shipping a new #AI feature today, thanks @alice for the push", ["Product"]),
    ("carol", "Reading about #ai agents and #Startups all weekend", []),
    ("alice", "Live notifications over WebSockets feel like magic #Django", ["WebSockets"]),
    ("dave", "Hello world, first tweet #Django", []),
]
# bob has not liked alice's first tweet: the README's session starts with that like.
LIKES = [("carol", 0), ("alice", 1), ("carol", 1), ("alice", 2), ("bob", 3)]


class Command(BaseCommand):
    help = "Create demo users (password: %s), follows, tweets and likes; idempotent." % DEMO_PASSWORD

    def handle(self, *args, **options):
        with transaction.atomic():
            users = {name: self.user(name, display) for name, display in USERS}
            for follower, followee in FOLLOWS:
                feed_services.follow_create(follower=users[follower], followee=users[followee])
            tweets = [self.tweet(users[author], text, topics) for author, text, topics in TWEETS]
            for name, index in LIKES:
                if not Engagement.objects.filter(
                    user=users[name], tweet=tweets[index], kind=Engagement.Kind.LIKE
                ).exists():
                    engagement_services.engagement_add(
                        user=users[name], tweet=tweets[index], kind=Engagement.Kind.LIKE
                    )
        call_command("recompute_trending", stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Users (password %s):" % DEMO_PASSWORD))
        for name, user in users.items():
            self.stdout.write(f"  {name:<6} id={user.pk:<4} token={token_for(user)}")

    def user(self, username, display_name):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": display_name}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def tweet(self, author, content, topics):
        existing = Tweet.objects.filter(author=author, content=content).first()
        return existing or feed_services.tweet_create(author=author, content=content, topics=topics)
