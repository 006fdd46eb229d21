from django.db.models.signals import post_save
from django.dispatch import receiver

from engagement.models import Engagement
from feed.models import Follow, Tweet

from . import services
from .models import Notification


@receiver(post_save, sender=Notification, dispatch_uid="notification_saved")
def notification_saved(sender, instance, created, raw, **kwargs):
    # Whoever saves it (a service, the admin, a shell), a new notification goes out.
    if created and not raw:
        services.notification_announce(notification=instance)


@receiver(post_save, sender=Engagement, dispatch_uid="notifications_engagement_saved")
def engagement_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.notifications_for_engagement(engagement=instance)


@receiver(post_save, sender=Follow, dispatch_uid="notifications_follow_saved")
def follow_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.notifications_for_follow(follow=instance)


@receiver(post_save, sender=Tweet, dispatch_uid="notifications_tweet_saved")
def tweet_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.notifications_for_tweet(tweet=instance)
