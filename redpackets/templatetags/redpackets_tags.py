"""`{% booking_redpackets booking %}`: a booking's red packets on the booking page."""

from django import template

from backoffice.templatetags.money import fen_to_yuan_text
from redpackets import selectors

register = template.Library()


@register.inclusion_tag("redpackets/_booking_block.html", takes_context=True)
def booking_redpackets(context, booking):
    """Grants, their claim forms (for the booking's own customer only) and why none was given."""
    request = context.get("request")
    viewer = getattr(request, "follower", None)
    grants, refusals = selectors.booking_redpackets(booking=booking)
    is_owner = viewer is not None and viewer.pk == booking.follower_id
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "booking": booking,
        "grants": [
            {"grant": g, "remaining_fen": g.remaining_fen, "initial": fen_to_yuan_text(g.remaining_fen)} for g in grants
        ],
        "refusals": refusals,
        "can_claim": is_owner,
        "next": request.get_full_path() if request is not None else "",
    }
