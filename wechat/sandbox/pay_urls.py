"""/sandbox/pay/…: the imitation of WeChat Pay's host (api.mch.weixin.qq.com) and its page."""

from django.urls import path

from . import pay

app_name = "pay"
urlpatterns = [
    path("", pay.index, name="index"),
    path("fault/", pay.fault, name="fault"),
    path("open/<str:billno>/", pay.open_packet, name="open"),
    path("mmpaymkttransfers/sendredpack", pay.sendredpack, name="sendredpack"),
    path("mmpaymkttransfers/gethbinfo", pay.gethbinfo, name="gethbinfo"),
]
