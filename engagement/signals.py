from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from feed.models import Tweet

from . import services
from .models import Engagement


@receiver(post_save, sender=Engagement, dispatch_uid="engagement_saved")
def engagement_saved(sender, instance, created, raw, **kwargs):
    if created and not raw:
        services.engagement_counted(engagement=instance, delta=+1)


@receiver(post_delete, sender=Engagement, dispatch_uid="engagement_deleted")
def engagement_deleted(sender, instance, **kwargs):
    services.engagement_counted(engagement=instance, delta=-1)


@receiver(post_save, sender=Tweet, dispatch_uid="engagement_reply_saved")
def reply_saved(sender, instance, created, raw, **kwargs):
    if created and not raw and instance.reply_to_id is not None:
        services.reply_counted(reply=instance, delta=+1)


@receiver(post_delete, sender=Tweet, dispatch_uid="engagement_reply_deleted")
def reply_deleted(sender, instance, **kwargs):
    if instance.reply_to_id is not None:
        services.reply_counted(reply=instance, delta=-1)
