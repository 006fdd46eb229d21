import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import groups
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_changelist_query_count_does_not_grow_with_rows(admin_client, alice, bob):
    def queries_for_changelist():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get("/admin/notifications/notification/").status_code == 200
        return len(queries)

    Notification.objects.create(recipient=alice, actor=bob, type="FOLLOW")
    few = queries_for_changelist()
    for _ in range(20):
        Notification.objects.create(recipient=bob, actor=alice, type="FOLLOW")
    assert queries_for_changelist() == few


def test_changelist_filters_and_search(admin_client, alice, bob):
    Notification.objects.create(recipient=alice, actor=bob, type="FOLLOW")
    for query in ["?type__exact=LIKE", "?read__exact=0", "?q=bob", "?created_at__year=2026"]:
        assert admin_client.get(f"/admin/notifications/notification/{query}").status_code == 200


def test_notification_added_in_admin_is_broadcast(admin_client, broadcasts, alice, bob):
    with broadcasts.committing():
        response = admin_client.post(
            "/admin/notifications/notification/add/",
            {
                "recipient": alice.pk,
                "actor": bob.pk,
                "type": "MENTION",
                "created_at_0": "2026-01-25",
                "created_at_1": "10:30:00",
            },
        )
    assert response.status_code == 302, response.content[:500]
    [frame] = broadcasts.to(groups.user_notifications(alice.pk))
    assert frame["data"]["type"] == "MENTION"
