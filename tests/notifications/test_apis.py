import pytest

from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(alice, bob, carol):
    return [
        Notification.objects.create(recipient=alice, actor=bob, type="FOLLOW"),
        Notification.objects.create(recipient=alice, actor=carol, type="FOLLOW"),
        Notification.objects.create(recipient=bob, actor=alice, type="FOLLOW"),
    ]


def test_list_is_newest_first_and_only_mine(api_for, alice, inbox):
    body = api_for(alice).get("/api/notifications/").json()
    assert [n["notification_id"] for n in body["results"]] == [str(inbox[1].pk), str(inbox[0].pk)]
    assert body["results"][0]["read"] is False
    assert body["unread_count"] == 2


def test_mark_one_read_then_unread_filter(api_for, alice, inbox):
    response = api_for(alice).post(f"/api/notifications/{inbox[0].pk}/read/")
    assert response.json() == {"updated": 1, "unread_count": 1}
    unread = api_for(alice).get("/api/notifications/?unread=1").json()["results"]
    assert [n["notification_id"] for n in unread] == [str(inbox[1].pk)]


def test_mark_all_read(api_for, alice, bob, inbox):
    assert api_for(alice).post("/api/notifications/read-all/").json() == {"updated": 2, "unread_count": 0}
    assert Notification.objects.filter(recipient=bob, read=False).count() == 1


@pytest.mark.parametrize("which", ["others", "424242", "abc"])
def test_marking_someone_elses_or_unknown_notification_is_404(api_for, alice, inbox, which):
    notification_id = inbox[2].pk if which == "others" else which
    assert api_for(alice).post(f"/api/notifications/{notification_id}/read/").status_code == 404
