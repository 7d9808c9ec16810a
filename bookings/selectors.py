"""Reads of bookings shared by the H5 pages, the back office and other apps.

The access rules live here and nowhere else: who may see a booking and who may act on it.

- the customer (booking.follower) sees his booking and may cancel it while pending;
- its handler acts on it: the booking's channel manager while he still is one; a booking with
  no manager (or whose manager was unset) is handled by the active fallback recipients, who
  received its notification; nobody handles his own booking;
- staff need the Django permissions `bookings.view_booking` / `bookings.change_booking`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Follower
from bookings.models import Booking, Category, NotificationRecipient, Package

CUSTOMER_ACTIONS = frozenset({"cancel"})
HANDLER_ACTIONS = frozenset({"accept", "reject", "unreachable", "complete"})
STAFF_ACTIONS = HANDLER_ACTIONS

CLOSED_STATUSES = (Booking.Status.REJECTED, Booking.Status.COMPLETED, Booking.Status.CANCELLED)


def is_fallback_recipient(follower: Follower | None) -> bool:
    if follower is None:
        return False
    # Asked several times per page (tab bar, buttons); remembered on the request's follower.
    cached = getattr(follower, "_is_fallback_recipient", None)
    if cached is None:
        cached = NotificationRecipient.objects.filter(follower=follower, is_active=True).exists()
        follower._is_fallback_recipient = cached
    return cached


def _unassigned_q() -> Q:
    return Q(channel_manager__isnull=True) | Q(channel_manager__is_channel_manager=False)


def is_handler(booking: Booking, follower: Follower | None) -> bool:
    """Is `follower` the one who phones the customer and presses the buttons?

    Never the customer himself: nobody accepts his own booking (and earns its red packet).
    """
    if follower is None or booking.follower_id == follower.pk:
        return False
    manager = booking.channel_manager
    if manager is not None and manager.is_channel_manager:
        return manager.pk == follower.pk
    return is_fallback_recipient(follower)


def is_customer(booking: Booking, follower: Follower | None) -> bool:
    return follower is not None and booking.follower_id == follower.pk


def can_view(booking: Booking, *, follower: Follower | None = None, user=None) -> bool:
    if is_customer(booking, follower) or is_handler(booking, follower):
        return True
    return bool(user is not None and user.is_active and user.is_staff and user.has_perm("bookings.view_booking"))


def can_act(booking: Booking, action: str, *, follower: Follower | None = None, user=None) -> bool:
    if follower is not None:
        if action in CUSTOMER_ACTIONS and is_customer(booking, follower):
            return True
        if action in HANDLER_ACTIONS and is_handler(booking, follower):
            return True
    if user is not None and action in STAFF_ACTIONS:
        return bool(user.is_active and user.is_staff and user.has_perm("bookings.change_booking"))
    return False


def allowed_actions(booking: Booking, *, follower: Follower | None = None, user=None) -> list[str]:
    """Actions this viewer may take on the booking in its current status (for the buttons)."""
    from bookings.services import TRANSITIONS

    return [
        action
        for action, rule in TRANSITIONS.items()
        if booking.status in rule.sources and can_act(booking, action, follower=follower, user=user)
    ]


def _detail_queryset() -> QuerySet[Booking]:
    return Booking.objects.select_related("package", "package__category", "follower", "channel_manager", "store")


def booking_for_viewer(booking_id: int, follower: Follower) -> Booking:
    """The booking if `follower` may see it; 404 if it does not exist, PermissionDenied (403) otherwise."""
    booking = get_object_or_404(_detail_queryset(), pk=booking_id)
    if not can_view(booking, follower=follower):
        raise PermissionDenied("无权查看该预约")
    return booking


def booking_for_handler(booking_id: int, follower: Follower) -> Booking:
    booking = get_object_or_404(_detail_queryset(), pk=booking_id)
    if not is_handler(booking, follower):
        raise PermissionDenied("无权处理该预约")
    return booking


def booking_timeline(booking: Booking):
    return booking.events.select_related("actor_follower", "actor_user").order_by("id")


def _split(qs: QuerySet[Booking], tab: str) -> QuerySet[Booking]:
    if tab == "closed":
        return qs.filter(status__in=CLOSED_STATUSES)
    return qs.filter(status__in=Booking.OPEN_STATUSES)


def customer_bookings(follower: Follower, *, tab: str = "open") -> QuerySet[Booking]:
    qs = Booking.objects.filter(follower=follower).select_related("package", "channel_manager")
    return _split(qs, tab).order_by("-id")


def handled_bookings(follower: Follower, *, tab: str = "open") -> QuerySet[Booking]:
    """Bookings the follower handles: his customers' as manager, plus unassigned ones as fallback recipient."""
    condition = Q(pk__in=[])
    if follower.is_channel_manager:
        condition |= Q(channel_manager=follower)
    if is_fallback_recipient(follower):
        condition |= _unassigned_q()
    qs = (
        Booking.objects.filter(condition)
        .exclude(follower=follower)
        .select_related("package", "follower", "channel_manager")
    )
    return _split(qs, tab).order_by("-id")


def can_handle_any(follower: Follower) -> bool:
    return follower.is_channel_manager or is_fallback_recipient(follower)


def active_categories():
    packages = Package.objects.filter(is_active=True).order_by("sort_order", "id")
    return (
        Category.objects.filter(is_active=True)
        .prefetch_related(Prefetch("packages", queryset=packages, to_attr="active_packages"))
        .order_by("sort_order", "id")
    )


def active_package(package_id: int) -> Package:
    packages = Package.objects.select_related("category").filter(is_active=True, category__is_active=True)
    return get_object_or_404(packages, pk=package_id)


def notification_openids(booking: Booking) -> list[str]:
    """Who is told of a new booking: its manager, or with none every active fallback recipient."""
    manager = booking.channel_manager
    if manager is not None and manager.is_channel_manager:
        return [manager.openid]
    return list(
        NotificationRecipient.objects.filter(is_active=True)
        .exclude(follower_id=booking.follower_id)
        .order_by("id")
        .values_list("follower__openid", flat=True)
    )
