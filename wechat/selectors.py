"""Reads of the account's configured behaviour (welcome text, keyword and menu replies)."""

from __future__ import annotations

from django.core.cache import cache

from wechat.models import AutoReply, MenuButton, WelcomeMessage

WELCOME_CACHE_KEY = "wechat:welcome-text"


def welcome_text() -> str:
    """The active welcome text. Read on every follow (campaign bursts), so it is kept in the
    cache; saving or deleting a WelcomeMessage clears it (wechat.apps)."""
    text = cache.get(WELCOME_CACHE_KEY)
    if text is None:
        row = WelcomeMessage.objects.filter(is_active=True).order_by("-id").first()
        text = row.text if row else ""
        cache.set(WELCOME_CACHE_KEY, text, 3600)
    return text


def forget_welcome_text(**_signal_kwargs) -> None:
    cache.delete(WELCOME_CACHE_KEY)


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
