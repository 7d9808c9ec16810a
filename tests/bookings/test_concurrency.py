"""Two people press buttons on the same booking at the same moment: exactly one wins."""

import threading

import pytest
from django.db import connection

from bookings import services
from bookings.models import Booking
from bookings.services import BookingTransitionError
from tests.bookings.conftest import submit


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            results[index] = "ok"
        except BookingTransitionError as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "first,second",
    [("accept", "reject"), ("accept", "accept"), ("accept", "cancel"), ("reject", "cancel")],
)
def test_it_lets_exactly_one_of_two_concurrent_changes_win(first, second, customer, manager, package):
    booking = submit(customer, package)

    def call(action):
        actor = customer if action == "cancel" else manager
        return lambda: services.change_booking_status(
            booking_id=booking.pk, action=action, actor_follower=actor, note="并发测试"
        )

    results = _race([call(first), call(second)])

    wins = [r for r in results if r == "ok"]
    losses = [r for r in results if isinstance(r, BookingTransitionError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "请刷新页面" in str(losses[0])
    booking.refresh_from_db()
    assert booking.status != Booking.Status.PENDING
    # The submit event plus the winner's; the loser wrote nothing.
    assert booking.events.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_creates_one_booking_when_two_taps_arrive_together(customer, package):
    from bookings.models import BookingEvent
    from tests.bookings.conftest import VALID

    barrier = threading.Barrier(2)
    results = []

    def tap():
        try:
            barrier.wait()
            booking, created = services.submit_booking(
                follower=customer, package=package, data=VALID, submit_token="same-tap"
            )
            results.append((booking.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert Booking.objects.count() == 1
    assert sorted(created for _, created in results) == [False, True]
    assert {pk for pk, _ in results} == {Booking.objects.get().pk}
    assert BookingEvent.objects.count() == 1
