"""`GET /wechat/jssdk?url=<page url>`: the `wx.config(...)` arguments for an H5 page (sharing).

Only for a signed-in follower, and only for pages of this site: the signature is worth nothing
elsewhere, but the endpoint should not become a free signing service for other domains.
"""

from django.http import JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.h5auth import current_follower
from wechat import gateway
from wechat.gateway import GatewayError


@never_cache
@require_GET
def jssdk_config(request):
    if current_follower(request) is None:
        return JsonResponse({"error": "请先登录"}, status=403)
    url = request.GET.get("url", "")
    if not url.startswith(("http://", "https://")) or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}
    ):
        return JsonResponse({"error": "url 须为本站页面地址"}, status=400)
    try:
        config = gateway.jssdk_config(url=url)
    except GatewayError:
        return JsonResponse({"error": "暂时无法获取微信配置"}, status=503)
    return JsonResponse(config)
