from django.urls import path

from . import jssdk, oauth, views

app_name = "wechat"
urlpatterns = [
    path("callback", views.callback, name="callback"),
    path("oauth/start", oauth.oauth_start, name="oauth_start"),
    path("oauth/callback", oauth.oauth_callback, name="oauth_callback"),
    path("jssdk", jssdk.jssdk_config, name="jssdk_config"),
]
