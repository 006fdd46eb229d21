"""Keep the topic counters in step with tweets, replies and engagements."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from engagement.models import Engagement
from feed.models import Tweet

from . import services


@receiver(post_save, sender=Tweet, dispatch_uid="trending_tweet_saved")
def tweet_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.topic_tweet_counted(tweet=instance, delta=+1)


@receiver(post_delete, sender=Tweet, dispatch_uid="trending_tweet_deleted")
def tweet_deleted(sender, instance, **kwargs):
    services.topic_tweet_counted(tweet=instance, delta=-1)


@receiver(post_save, sender=Engagement, dispatch_uid="trending_engagement_saved")
def engagement_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.topic_engagement_counted(tweet_id=instance.tweet_id, at=instance.created_at, delta=+1)


@receiver(post_delete, sender=Engagement, dispatch_uid="trending_engagement_deleted")
def engagement_deleted(sender, instance, **kwargs):
    services.topic_engagement_counted(tweet_id=instance.tweet_id, at=instance.created_at, delta=-1)
