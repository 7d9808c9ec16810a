"""`GET/POST /wechat/callback`: everything happens in `wechat.callback` (verify, dedupe, dispatch)."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wechat.callback import handle_request


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request):
    return handle_request(request)
