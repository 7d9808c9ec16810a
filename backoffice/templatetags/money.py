"""Money is integer fen everywhere; this is the one place that formats it as yuan."""

from django import template

register = template.Library()


def fen_to_yuan_text(amount_fen: int | None) -> str:
    if amount_fen is None:
        return ""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(int(amount_fen)), 100)
    return f"{sign}{yuan}.{fen:02d}"


@register.filter(name="yuan")
def yuan(amount_fen):
    """Render 1234 (fen) as "12.34"."""
    return fen_to_yuan_text(amount_fen)
