"""Red-packet grants, claims and payouts (SPEC §4.3)."""


def create_grant_for_booking(*, booking, trigger: str):
    """Create the grant for `booking` and `trigger` ("submitted" | "accepted"), at most once.

    Called by the booking services inside their transaction. Returns the grant, or None when
    no grant is due (rule inactive, duplicate booking, cap or budget reached).
    """
    return None
