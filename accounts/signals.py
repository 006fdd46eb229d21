"""Receivers that end the sockets opened with a credential when it ends, and
keep the username skeletons current. Each calls one service.

Imported by AccountsConfig.ready (apps.py).
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from realtime_project.realtime import credentials

from . import services, usernames


@receiver(user_logged_in, dispatch_uid="session_signed_in")
def session_signed_in(sender, request, user, **kwargs):
    credentials.session_credential_start(request.session)


@receiver(user_logged_out, dispatch_uid="session_signed_out")
def session_signed_out(sender, request, user, **kwargs):
    # Sent before Django flushes the session: its key and data are still there.
    services.session_end(session=request.session)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="username_saved")
def username_saved(sender, instance, created, raw, update_fields, **kwargs):
    # Every way a user is made or renamed: sign-up, admin, createsuperuser, loaddata.
    if created or raw or update_fields is None or "username" in update_fields:
        usernames.username_skeleton_store(user=instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="user_access_saved")
def user_access_saved(sender, instance, created, raw, update_fields, **kwargs):
    if created or raw:
        return
    # set_password() leaves the new password in `_password` until the save
    # is done: Django's own sign of a change (it hands it to the validators'
    # password_changed), which a hash upgrade at sign-in clears first.
    changed_password = getattr(instance, "_password", None) is not None
    if changed_password and (update_fields is None or "password" in update_fields):
        services.user_credentials_end(user=instance)
    elif not instance.is_active and (update_fields is None or "is_active" in update_fields):
        credentials.sockets_close_on_commit(user_id=instance.pk)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="user_deleted")
def user_deleted(sender, instance, **kwargs):
    credentials.sockets_close_on_commit(user_id=instance.pk)


@receiver(post_delete, sender=Token, dispatch_uid="token_deleted")
def token_deleted(sender, instance, **kwargs):
    credentials.sockets_close_on_commit(
        user_id=instance.user_id, credential=credentials.token_credential(instance.key)
    )
