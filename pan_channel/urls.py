from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from backoffice.views import bench_noop, healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("wechat/", include("wechat.urls")),
    path("h5/", include("accounts.urls")),
    path("h5/bookings/", include("bookings.urls")),
    path("h5/redpackets/", include("redpackets.urls")),
    path("h5/shop/", include("shop.urls")),
]

if settings.WECHAT_SANDBOX:
    urlpatterns.append(path("sandbox/", include("wechat.sandbox.urls")))

if settings.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/noop", bench_noop))
