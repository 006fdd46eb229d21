"""Stored and reflected XSS through the operators' pages.

Anyone may sign up, name themselves and tweet, and ordinary HTML characters
are allowed in names, tweets and topics (visible_text.py rejects only what
renders as nothing or reorders text). So a hostile user's markup reaches the
Django admin, whose pages an operator opens signed in as a superuser: a
script run there could do anything the operator may. The admin's templates
escape every value they show, and these tests pin that for each place such
text lands (tweet, notification, user and topic pages, and the search box,
which reflects `?q=`). The API docs (drf-spectacular's Swagger UI) build
their schema URL from `?lang=` and `?version=` into a script: it must not be
a way to run one either.

These pin defences that held against an outside attack: they pass on the
current code and fail if a value is marked safe (mark_safe, format_html with
an unescaped argument, `|safe` in a template) or a query string is echoed.
"""

import pytest
from django.utils.html import escape

from feed import services as feed_services
from notifications.models import Notification

pytestmark = pytest.mark.django_db

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
SVG = '"><svg onload="window.__xss=3">'
PAYLOADS = (IMG, SCRIPT, SVG)
# What a page must never hold outside of escaped text.
RAW = ("<img src=x onerror=", "<script>window.__xss", "<svg onload=")


@pytest.fixture
def operator_client(client, make_user):
    operator = make_user("root")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


@pytest.fixture
def mallory(make_user):
    # A display name of the three payloads: 96 characters, within the 150 allowed.
    return make_user("mallory", " ".join(PAYLOADS))


@pytest.fixture
def hostile_tweets(mallory):
    """One tweet per payload, each also an explicit topic (as POST /api/tweets/ takes them)."""
    return [
        feed_services.tweet_create(author=mallory, content=payload, topics=[payload]) for payload in PAYLOADS
    ]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def assert_shown_escaped(html: str, *texts: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{raw!r} is in the page unescaped"
    for text in texts:
        assert escape(text) in html, f"{text!r} is not shown (escaped) on the page"


def test_tweet_changelist_escapes_hostile_tweets(operator_client, hostile_tweets):
    html = page(operator_client, "/admin/feed/tweet/")
    assert_shown_escaped(html, *PAYLOADS)


def test_tweet_change_page_escapes_its_content_and_topics(operator_client, hostile_tweets):
    for tweet, payload in zip(hostile_tweets, PAYLOADS):
        html = page(operator_client, f"/admin/feed/tweet/{tweet.pk}/change/")
        assert_shown_escaped(html, payload)


def test_notification_change_page_escapes_the_tweet_it_names(operator_client, alice, mallory, hostile_tweets):
    for tweet, payload in zip(hostile_tweets, PAYLOADS):
        notification = Notification.objects.create(recipient=alice, actor=mallory, type="REPLY", tweet=tweet)
        # The raw-id widget labels the tweet with its __str__, which quotes its text.
        html = page(operator_client, f"/admin/notifications/notification/{notification.pk}/change/")
        assert_shown_escaped(html, payload)
    assert_shown_escaped(page(operator_client, "/admin/notifications/notification/"))


def test_user_changelist_escapes_hostile_display_names(operator_client, mallory):
    html = page(operator_client, "/admin/auth/user/")
    assert_shown_escaped(html, *PAYLOADS)


def test_topic_changelist_escapes_hostile_topics(operator_client, hostile_tweets):
    html = page(operator_client, "/admin/trending/topic/")
    # The key is casefolded, the spelling as written: both are shown.
    assert_shown_escaped(html, IMG, IMG.casefold())


@pytest.mark.parametrize(
    "changelist", ["/admin/feed/tweet/", "/admin/notifications/notification/", "/admin/auth/user/"]
)
def test_changelist_search_does_not_reflect_markup(operator_client, changelist):
    for payload in PAYLOADS:
        response = operator_client.get(changelist, {"q": payload})
        assert response.status_code == 200
        assert_shown_escaped(response.content.decode(), payload)


@pytest.mark.parametrize(
    "query, reflected",
    [
        # Swagger UI's own ways to load another spec: the page does not pass them on.
        ({"url": "javascript:window.__xss=1", "configUrl": "javascript:window.__xss=1"}, None),
        # Passed on into the schema URL in a script: URL-encoded, then escaped for JS.
        ({"lang": SCRIPT, "version": SVG}, "lang\\u003D%3Cscript%3Ewindow.__xss"),
        ({SCRIPT: IMG}, None),
    ],
)
def test_api_docs_do_not_reflect_the_query_string(client, query, reflected):
    response = client.get("/api/docs/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    for raw in (*RAW, "javascript:"):
        assert raw not in html, f"{raw!r} from the query string is in the page"
    if reflected:
        assert reflected in html
