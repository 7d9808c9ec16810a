"""Who is this H5 visitor? Every /h5/ page requires a follower identified by OAuth.

The OAuth dance itself (snsapi_base, state checked against the session) lives in
`wechat.oauth`; once it succeeds it calls `login_follower()`, and the session remembers
the follower afterwards.
"""

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import Follower

SESSION_KEY = "h5_follower_id"


def login_follower(request, follower: Follower) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = follower.pk


def logout_follower(request) -> None:
    request.session.pop(SESSION_KEY, None)


def current_follower(request) -> Follower | None:
    follower_id = request.session.get(SESSION_KEY)
    if not follower_id:
        return None
    return Follower.objects.filter(pk=follower_id).first()


def follower_required(view):
    """Set `request.follower`, or send the visitor through OAuth first.

    A visitor who was identified but does not (or no longer) follow the account is shown how
    to follow it instead of the page.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        follower = current_follower(request)
        if follower is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('wechat:oauth_start')}?{query}")
        if not follower.is_subscribed:
            return redirect("accounts:follow_first")
        request.follower = follower
        return view(request, *args, **kwargs)

    return wrapper
