from django.urls import path

from . import oauth, views

app_name = "wechat"
urlpatterns = [
    path("callback", views.callback, name="callback"),
    path("oauth/start", oauth.oauth_start, name="oauth_start"),
    path("oauth/callback", oauth.oauth_callback, name="oauth_callback"),
]
