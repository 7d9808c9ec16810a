"""Reads of the account's configured behaviour (welcome text, keyword and menu replies)."""

from __future__ import annotations

from wechat.models import AutoReply, MenuButton, WelcomeMessage


def welcome_text() -> str:
    row = WelcomeMessage.objects.filter(is_active=True).order_by("-id").first()
    return row.text if row else ""


def keyword_reply(text: str) -> str:
    """The reply of the first matching active keyword (higher priority first), or ''."""
    text = (text or "").strip()
    if not text:
        return ""
    for rule in AutoReply.objects.filter(is_active=True).order_by("-priority", "id"):
        keyword = rule.keyword.strip()
        if not keyword:
            continue
        if rule.match == AutoReply.Match.EXACT and text == keyword:
            return rule.reply
        if rule.match == AutoReply.Match.CONTAINS and keyword in text:
            return rule.reply
    return ""


def click_reply(key: str) -> str:
    button = MenuButton.objects.filter(kind=MenuButton.Kind.CLICK, key=key).exclude(reply="").first()
    return button.reply if button else ""
