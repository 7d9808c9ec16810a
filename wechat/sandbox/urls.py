"""/sandbox/… (only mounted when WECHAT_SANDBOX=1).

* `cgi-bin/…`, `sns/…`: the imitation of api.weixin.qq.com (and showqrcode of mp.weixin.qq.com)
  that the gateway's host-rewriting adapter reaches;
* `connect/oauth2/authorize`: the imitation of open.weixin.qq.com's OAuth page;
* `pay/…`: the WeChat Pay imitation (red-packet payouts);
* everything else: the phone emulator.
"""

from django.urls import include, path

from wechat.sandbox import api, views

app_name = "sandbox"
urlpatterns = [
    path("pay/", include("wechat.sandbox.pay_urls")),
    # api.weixin.qq.com
    path("cgi-bin/stable_token", api.stable_token),
    path("cgi-bin/token", api.token),
    path("cgi-bin/message/template/send", api.template_send),
    path("cgi-bin/message/custom/send", api.custom_send),
    path("cgi-bin/message/mass/sendall", api.mass_sendall),
    path("cgi-bin/message/mass/send", api.mass_send),
    path("cgi-bin/draft/add", api.draft_add),
    path("cgi-bin/menu/create", api.menu_create),
    path("cgi-bin/menu/get", api.menu_get),
    path("cgi-bin/qrcode/create", api.qrcode_create),
    path("cgi-bin/user/get", api.user_get),
    path("cgi-bin/user/info", api.user_info),
    path("cgi-bin/user/info/batchget", api.user_info_batch),
    path("cgi-bin/media/upload", api.media_upload),
    path("cgi-bin/media/get", api.media_get),
    path("cgi-bin/ticket/getticket", api.getticket),
    path("sns/oauth2/access_token", api.oauth_access_token),
    # mp.weixin.qq.com / open.weixin.qq.com (browser-facing)
    path("cgi-bin/showqrcode", api.showqrcode, name="showqrcode"),
    path("connect/oauth2/authorize", views.authorize, name="authorize"),
    path("mmbiz/<str:media_id>", views.picture, name="picture"),
    # the phone emulator
    path("", views.index, name="index"),
    path("users/new", views.create_user, name="create_user"),
    path("faults", views.faults, name="faults"),
    path("phone/<str:openid>/", views.phone, name="phone"),
    path("phone/<str:openid>/chat", views.chat_since, name="chat_since"),
    path("phone/<str:openid>/follow", views.follow, name="follow"),
    path("phone/<str:openid>/unfollow", views.unfollow, name="unfollow"),
    path("phone/<str:openid>/scan", views.scan, name="scan"),
    path("phone/<str:openid>/click", views.click, name="click"),
    path("phone/<str:openid>/view", views.view, name="view"),
    path("phone/<str:openid>/text", views.send_text, name="send_text"),
    path("phone/<str:openid>/image", views.send_image, name="send_image"),
    path("phone/<str:openid>/open", views.open_page, name="open"),
]
