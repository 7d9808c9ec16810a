"""Every action from every status: allowed ones change the row and write a timeline event,
refused ones raise BookingTransitionError and change nothing."""

import pytest

from bookings import services
from bookings.models import Booking, BookingEvent
from bookings.services import Action, BookingPermissionError, BookingTransitionError, BookingValidationError
from tests.bookings.conftest import submit

S = Booking.Status
ALL_STATUSES = [S.PENDING, S.ACCEPTED, S.REJECTED, S.COMPLETED, S.CANCELLED]
ALLOWED = {
    (Action.ACCEPT, S.PENDING): S.ACCEPTED,
    (Action.REJECT, S.PENDING): S.REJECTED,
    (Action.UNREACHABLE, S.PENDING): S.PENDING,
    (Action.COMPLETE, S.ACCEPTED): S.COMPLETED,
    (Action.CANCEL, S.PENDING): S.CANCELLED,
}
# How to reach each status through the service itself.
PATHS = {
    S.PENDING: [],
    S.ACCEPTED: [Action.ACCEPT],
    S.REJECTED: [Action.REJECT],
    S.COMPLETED: [Action.ACCEPT, Action.COMPLETE],
    S.CANCELLED: [Action.CANCEL],
}


def _actor(action, customer, manager):
    return customer if action == Action.CANCEL else manager


def _reach(status, customer, manager, package):
    booking = submit(customer, package)
    for action in PATHS[status]:
        services.change_booking_status(
            booking_id=booking.pk, action=action, actor_follower=_actor(action, customer, manager), note="原因"
        )
    booking.refresh_from_db()
    assert booking.status == status
    return booking


@pytest.mark.django_db
@pytest.mark.parametrize("start", ALL_STATUSES)
@pytest.mark.parametrize("action", list(Action))
def test_it_allows_exactly_the_transitions_of_the_table(action, start, customer, manager, package):
    booking = _reach(start, customer, manager, package)
    events_before = booking.events.count()
    actor = _actor(action, customer, manager)
    note = "小区暂未覆盖光纤" if action == Action.REJECT else ""

    if (action, start) in ALLOWED:
        result = services.change_booking_status(booking_id=booking.pk, action=action, actor_follower=actor, note=note)
        booking.refresh_from_db()
        assert booking.status == ALLOWED[(action, start)] == result.status
        event = booking.events.order_by("-id").first()
        assert (event.from_status, event.to_status, event.action) == (start, booking.status, action)
        assert event.actor_follower == actor
        assert booking.events.count() == events_before + 1
    else:
        with pytest.raises(BookingTransitionError) as exc:
            services.change_booking_status(booking_id=booking.pk, action=action, actor_follower=actor, note=note)
        assert "不能执行" in str(exc.value)
        booking.refresh_from_db()
        assert booking.status == start
        assert booking.events.count() == events_before


@pytest.mark.django_db
def test_it_sets_times_and_reason(customer, manager, package):
    accepted = submit(customer, package)
    services.change_booking_status(booking_id=accepted.pk, action="accept", actor_follower=manager)
    services.change_booking_status(booking_id=accepted.pk, action="complete", actor_follower=manager)
    accepted.refresh_from_db()
    assert accepted.accepted_at is not None and accepted.closed_at is not None

    rejected = submit(customer, package)
    services.change_booking_status(booking_id=rejected.pk, action="reject", actor_follower=manager, note="不在覆盖区")
    rejected.refresh_from_db()
    assert rejected.reject_reason == "不在覆盖区"
    assert rejected.closed_at is not None
    assert rejected.events.last().note == "不在覆盖区"


@pytest.mark.django_db
def test_it_requires_a_reason_to_reject(booking, manager):
    with pytest.raises(BookingValidationError, match="原因"):
        services.change_booking_status(booking_id=booking.pk, action="reject", actor_follower=manager, note="  ")
    booking.refresh_from_db()
    assert booking.status == S.PENDING


@pytest.mark.django_db
def test_it_counts_unreachable_attempts_and_keeps_the_booking_pending(booking, manager):
    services.change_booking_status(booking_id=booking.pk, action="unreachable", actor_follower=manager, note="无人接听")
    services.change_booking_status(booking_id=booking.pk, action="unreachable", actor_follower=manager)
    booking.refresh_from_db()
    assert booking.status == S.PENDING
    assert booking.contact_attempts == 2
    notes = list(booking.events.filter(action="unreachable").values_list("note", flat=True))
    assert notes == ["无人接听", ""]


@pytest.mark.django_db
def test_it_refuses_actions_by_the_wrong_party(booking, customer, manager, other_manager, outsider):
    for actor, action in [
        (customer, "accept"),
        (manager, "cancel"),
        (other_manager, "accept"),
        (outsider, "cancel"),
    ]:
        with pytest.raises(BookingPermissionError):
            services.change_booking_status(booking_id=booking.pk, action=action, actor_follower=actor)
    booking.refresh_from_db()
    assert booking.status == S.PENDING
    assert booking.events.count() == 1


@pytest.mark.django_db
def test_it_refuses_unknown_actions_and_missing_actors(booking, manager):
    with pytest.raises(BookingValidationError):
        services.change_booking_status(booking_id=booking.pk, action="delete", actor_follower=manager)
    with pytest.raises(BookingPermissionError):
        services.change_booking_status(booking_id=booking.pk, action="accept")
    assert BookingEvent.objects.filter(booking=booking).count() == 1


@pytest.mark.django_db
def test_it_lets_permitted_staff_act_and_records_them(booking, staff_with_perm, staff_without_perm):
    with pytest.raises(BookingPermissionError):
        services.change_booking_status(booking_id=booking.pk, action="accept", actor_user=staff_without_perm)
    services.change_booking_status(booking_id=booking.pk, action="accept", actor_user=staff_with_perm)
    booking.refresh_from_db()
    assert booking.status == S.ACCEPTED
    assert booking.events.last().actor_user == staff_with_perm
