from django.urls import path

from . import apis

urlpatterns = [
    path("tweets/", apis.TweetCreateApi.as_view(), name="tweet-create"),
    path("tweets/<str:tweet_id>/", apis.TweetDetailApi.as_view(), name="tweet-detail"),
    path("users/", apis.UserListApi.as_view(), name="user-list"),
    path("users/<str:user_id>/follow/", apis.FollowApi.as_view(), name="user-follow"),
    path("feed/", apis.FeedApi.as_view(), name="feed"),
]
