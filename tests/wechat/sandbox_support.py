"""Helpers for tests against the sandbox (use with the `wechat_sandbox` fixture of tests/conftest.py)."""

from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxApiCall


def calls(endpoint: str, **filters) -> int:
    """How many requests the imitation answered for `endpoint` (e.g. "stable_token")."""
    return SandboxApiCall.objects.filter(endpoint=endpoint, **filters).count()


def following_user(nickname: str = "测试用户"):
    user = sandbox_services.create_user(nickname=nickname)
    sandbox_services.set_following(user=user, following=True)
    return user
