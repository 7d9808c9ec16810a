"""What the rest of the platform calls to message a follower through WeChat.

Each function only *enqueues* a Celery task, on commit of the current transaction, so no
WeChat call ever runs inside an open transaction. `idempotency_key` makes the send happen
at most once however many times the task runs (e.g. "booking:42:new:manager:17").
"""


def send_template_on_commit(*, openid: str, template: str, data: dict, url: str = "", idempotency_key: str) -> None:
    """Template message. `template` is a template id; `data` maps keyword names to values."""
    raise NotImplementedError


def send_text_on_commit(*, openid: str, text: str, idempotency_key: str) -> None:
    """Customer-service text message (48-hour window rules apply)."""
    raise NotImplementedError
