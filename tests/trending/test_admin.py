"""The admin lists snapshots and topics, read-only."""

import pytest

from trending import services

from .conftest import NOW, minutes_ago

pytestmark = pytest.mark.django_db


def test_admin_lists_snapshots_and_topics(admin_client, post):
    post("#AI", at=minutes_ago(2))
    post("#ai", at=minutes_ago(1))
    snapshot = services.trending_refresh(now=NOW, broadcast=False).snapshot
    topics = admin_client.get("/admin/trending/topic/")
    assert topics.status_code == 200
    assert b"AI" in topics.content
    snapshots = admin_client.get("/admin/trending/trendingsnapshot/")
    assert snapshots.status_code == 200
    detail = admin_client.get(f"/admin/trending/trendingsnapshot/{snapshot.pk}/change/")
    assert detail.status_code == 200
    assert b"rank_score" in detail.content


def test_admin_cannot_edit_or_delete_what_the_engine_writes(admin_client, post):
    post("#AI", at=minutes_ago(2))
    assert admin_client.get("/admin/trending/topic/add/").status_code == 403
    assert admin_client.post("/admin/trending/topic/1/delete/").status_code == 403
