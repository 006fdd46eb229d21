from django.db.models.signals import post_save
from django.dispatch import receiver

from . import services
from .models import Tweet


@receiver(post_save, sender=Tweet, dispatch_uid="feed_tweet_saved")
def tweet_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.tweet_announce(tweet=instance)
