"""The account's own behaviour in the callback: welcome text, keyword and menu replies, receipts.

Registered in `wechat.callback.HANDLERS` (see its docstring) when the app is ready. Where a
handler already exists for a key (attribution on subscribe, say) it is wrapped: it still runs
first, and our reply is added only when it had nothing to say.
"""

from __future__ import annotations

from wechat import callback, selectors, services


def _wrap(key: str, reply_for):
    previous = callback.HANDLERS.get(key)
    if getattr(previous, "_account_behaviour", False):
        return  # already wrapped (module imported twice)

    def handler(msg):
        reply = previous(msg) if previous else None
        if reply:
            return reply
        return reply_for(msg) or None

    handler._account_behaviour = True
    handler.__doc__ = f"{key}: {reply_for.__doc__ or ''}".strip()
    callback.HANDLERS[key] = handler


def _welcome(msg) -> str:
    """the welcome text from the back office."""
    return selectors.welcome_text()


def _keyword(msg) -> str:
    """keyword auto-reply."""
    return selectors.keyword_reply(getattr(msg, "content", ""))


def _click(msg) -> str:
    """the reply configured on the CLICK menu button."""
    return selectors.click_reply(getattr(msg, "key", "") or "")


def _template_finished(msg) -> None:
    """store WeChat's delivery verdict on the OutboundMessage."""
    services.record_delivery_status(msgid=str(msg.id), status=msg.status or "")
    return None


def _mass_finished(msg) -> None:
    """store the mass-send verdict."""
    services.record_delivery_status(msgid=str(msg.id), status=msg.status or "")
    return None


def register() -> None:
    _wrap("event:subscribe", _welcome)
    _wrap("event:subscribe_scan", _welcome)
    _wrap("text", _keyword)
    _wrap("event:click", _click)
    _wrap("event:templatesendjobfinish", _template_finished)
    _wrap("event:masssendjobfinish", _mass_finished)
