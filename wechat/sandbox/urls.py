from django.urls import include, path  # noqa: F401

app_name = "sandbox"
urlpatterns: list = [
    path("pay/", include("wechat.sandbox.pay_urls")),
]
