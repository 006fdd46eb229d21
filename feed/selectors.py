"""Reads of tweets, follows and timelines."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet

from realtime_project.realtime import protocol
from realtime_project.realtime.events.replay import Replay

from . import events
from .models import Follow, Tweet


def tweets_with_authors() -> QuerySet[Tweet]:
    return Tweet.objects.select_related("author")


def tweet_get(*, tweet_id) -> Tweet | None:
    """Return the tweet with id `tweet_id` (any string), or None."""
    try:
        return tweets_with_authors().get(pk=int(tweet_id))
    except (Tweet.DoesNotExist, ValueError, TypeError, OverflowError):
        return None


def tweets_existing(*, tweet_ids) -> dict[int, bool]:
    """Tweet id -> True, for those of `tweet_ids` (ints) that exist."""
    return dict.fromkeys(Tweet.objects.filter(pk__in=tweet_ids).values_list("pk", flat=True), True)


def user_get(*, user_id):
    """Return the active user with id `user_id` (any string), or None."""
    try:
        return get_user_model().objects.filter(pk=int(user_id), is_active=True).first()
    except (ValueError, TypeError, OverflowError):
        return None


def follower_ids(*, user_id: int, among: set[int] | None = None) -> list[int]:
    """Ids of the users following `user_id`; only those in `among` if given."""
    follows = Follow.objects.filter(followee_id=user_id)
    if among is not None:
        if not among:
            return []
        follows = follows.filter(follower_id__in=among)
    return list(follows.values_list("follower_id", flat=True))


def home_timeline(*, user) -> QuerySet[Tweet]:
    """Tweets by `user` and by everyone `user` follows, newest first."""
    followed = Follow.objects.filter(follower=user).values("followee_id")
    return tweets_with_authors().filter(Q(author__in=followed) | Q(author=user)).order_by("-id")


def users_for(*, viewer, search: str = "") -> QuerySet:
    """Active users other than `viewer` and the site's operators, each
    annotated with whether `viewer` follows them.

    Operators (staff and superusers) are left out: any signed-in user can
    search, and a list that answers `?q=admin` hands a password guesser the
    one username worth guessing for.
    """
    follows = Follow.objects.filter(follower=viewer, followee=OuterRef("pk"))
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .exclude(pk=viewer.pk)
        .annotate(following=Exists(follows))
    )
    if search:
        users = users.filter(Q(username__icontains=search) | Q(first_name__icontains=search))
    return users


def feed_tweets_after(*, user, after_id: int, limit: int) -> tuple[list[Tweet], bool]:
    """The newest `limit` tweets by authors `user` follows with id > `after_id`,
    oldest first, and whether there were more (what /ws/feed streams)."""
    followed = Follow.objects.filter(follower=user).values("followee_id")
    newest = list(
        tweets_with_authors().filter(author__in=followed, pk__gt=after_id).order_by("-id")[: limit + 1]
    )
    return newest[:limit][::-1], len(newest) > limit


def feed_replay(*, user, since: int) -> Replay:
    """One feed_update with every missed tweet (none if nothing was missed)."""
    missed, truncated = feed_tweets_after(user=user, after_id=since, limit=settings.REALTIME_REPLAY_LIMIT)
    if not missed:
        return Replay()
    tweets = events.tweet_payloads(missed)
    return Replay(
        frames=[(protocol.FEED_UPDATE, events.feed_data(tweets))],
        ids=frozenset(tweet["tweet_id"] for tweet in tweets),
        truncated=truncated,
    )


# The engagement app relates its rows to tweets as `engagements`; reading
# them by that name keeps feed from importing the app that builds on it.
VIEWER_FLAGS = {"liked": "LIKE", "retweeted": "RETWEET", "bookmarked": "BOOKMARK"}


def with_viewer_state(tweets: QuerySet[Tweet], *, viewer) -> QuerySet[Tweet]:
    """`tweets`, each annotated with whether `viewer` liked, retweeted and
    bookmarked it (`viewer_liked`, ...), in the same query."""
    if viewer is None or not viewer.is_authenticated:
        return tweets
    tweets = tweets.annotate(mine=FilteredRelation("engagements", condition=Q(engagements__user=viewer)))
    return tweets.annotate(
        **{f"viewer_{flag}": Count("mine", filter=Q(mine__kind=kind)) for flag, kind in VIEWER_FLAGS.items()}
    )
