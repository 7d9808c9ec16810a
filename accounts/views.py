"""H5 pages of the personal area: the home page (entries + personal center) and "follow us first"."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts import selectors
from accounts.h5auth import follower_required
from wechat import services as wechat_services

FOLLOW_FIRST_CAMPAIGN = ("h5follow", "H5引导关注码")


@never_cache
@follower_required
def home(request):
    follower = request.follower
    return render(
        request,
        "h5/home.html",
        {
            "follower": follower,
            "counts": selectors.downline_counts(follower),
            "referrer": follower.referrer,
            "manager": follower.channel_manager,
            "promo_qr_url": wechat_services.promo_qr_image_url(follower=follower),
        },
    )


def follow_first(request):
    """Shown to a visitor who does not follow the account: how to follow it (no sign-in needed)."""
    code, name = FOLLOW_FIRST_CAMPAIGN
    return render(
        request, "h5/follow_first.html", {"qr_url": wechat_services.campaign_qr_image_url(code=code, name=name)}
    )
