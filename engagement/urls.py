from django.urls import path

from . import apis

urlpatterns = [
    path("tweets/<str:tweet_id>/like/", apis.LikeApi.as_view(), name="tweet-like"),
    path("tweets/<str:tweet_id>/retweet/", apis.RetweetApi.as_view(), name="tweet-retweet"),
    path("tweets/<str:tweet_id>/bookmark/", apis.BookmarkApi.as_view(), name="tweet-bookmark"),
]
