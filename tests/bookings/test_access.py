"""Who may see and change a booking: pages, actions and photo URLs alike."""

import pytest
from django.urls import reverse

from bookings.models import Booking
from tests.bookings.conftest import admin_client_for, h5_client

# actor -> may see the customer's page, the manager's page, the photo; may accept; may cancel
H5_MATRIX = {
    "customer": {"detail": 200, "manage": 403, "photo": 200, "accept": 403, "cancel": 302},
    "manager": {"detail": 200, "manage": 200, "photo": 200, "accept": 302, "cancel": 403},
    "other_manager": {"detail": 403, "manage": 403, "photo": 403, "accept": 403, "cancel": 403},
    "other_customer": {"detail": 403, "manage": 403, "photo": 403, "accept": 403, "cancel": 403},
}


def _actor(request, name):
    return request.getfixturevalue(name)


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(H5_MATRIX))
@pytest.mark.parametrize("what", ["detail", "manage", "photo"])
def test_it_shows_h5_pages_and_photos_only_to_the_customer_and_his_manager(request, who, what, booking):
    client = h5_client(_actor(request, who))
    url = {
        "detail": reverse("bookings:detail", args=[booking.pk]),
        "manage": reverse("bookings:manage", args=[booking.pk]),
        "photo": reverse("bookings:photo", args=[booking.photos.get().token]),
    }[what]
    response = client.get(url)
    assert response.status_code == H5_MATRIX[who][what]
    if what == "photo" and response.status_code == 200:
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
        assert "private" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(H5_MATRIX))
@pytest.mark.parametrize("action", ["accept", "cancel"])
def test_it_lets_only_the_right_party_act(request, who, action, booking):
    client = h5_client(_actor(request, who))
    response = client.post(reverse("bookings:act", args=[booking.pk]), {"action": action})
    assert response.status_code == H5_MATRIX[who][action]
    booking.refresh_from_db()
    expected = {"accept": Booking.Status.ACCEPTED, "cancel": Booking.Status.CANCELLED}[action]
    if response.status_code == 302:
        assert booking.status == expected
        assert booking.events.count() == 2
    else:
        assert booking.status == Booking.Status.PENDING
        assert booking.events.count() == 1


@pytest.mark.django_db
def test_it_refuses_anonymous_visitors_everything(booking, client):
    photo_url = reverse("bookings:photo", args=[booking.photos.get().token])
    assert client.get(photo_url).status_code == 403
    response = client.post(reverse("bookings:act", args=[booking.pk]), {"action": "accept"})
    assert response.status_code == 302  # sent to sign in first
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_it_answers_404_for_unknown_photos_and_bookings(customer):
    client = h5_client(customer)
    assert client.get(reverse("bookings:photo", args=["nope"])).status_code == 404
    assert client.get(reverse("bookings:detail", args=[999999])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who,expected", [("staff_with_perm", 200), ("staff_without_perm", 403)])
def test_it_shows_staff_the_back_office_and_photos_only_with_permission(request, who, expected, booking):
    client = admin_client_for(_actor(request, who))
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert page.status_code == expected
    if expected == 200:
        html = page.content.decode()
        for action in ("accept", "reject", "unreachable"):
            assert f'id="booking-{action}"' in html
        assert 'id="booking-complete"' not in html and 'id="booking-cancel"' not in html
        assert reverse("bookings:photo", args=[booking.photos.get().token]) in html
    assert client.get(reverse("bookings:photo", args=[booking.photos.get().token])).status_code == expected
    list_status = client.get(reverse("admin:bookings_booking_changelist")).status_code
    assert list_status == expected


@pytest.mark.django_db
@pytest.mark.parametrize("who,expected_status", [("staff_with_perm", "accepted"), ("staff_without_perm", "pending")])
def test_it_lets_staff_act_from_the_back_office_only_with_permission(request, who, expected_status, booking):
    client = admin_client_for(_actor(request, who))
    response = client.post(reverse("admin:bookings_booking_transition", args=[booking.pk]), {"action": "accept"})
    assert response.status_code == (302 if expected_status == "accepted" else 403)
    booking.refresh_from_db()
    assert booking.status == expected_status


@pytest.mark.django_db
def test_it_lets_staff_with_only_view_permission_see_but_not_act(booking):
    from tests.bookings.conftest import staff_user

    viewer = staff_user("view_booking")
    client = admin_client_for(viewer)
    assert client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).status_code == 200
    response = client.post(reverse("admin:bookings_booking_transition", args=[booking.pk]), {"action": "accept"})
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_it_hands_unassigned_bookings_to_the_fallback_recipients(outsider, fallback, manager, package):
    from tests.bookings.conftest import submit

    booking = submit(outsider, package)
    assert booking.channel_manager is None
    assert h5_client(fallback).get(reverse("bookings:manage", args=[booking.pk])).status_code == 200
    assert h5_client(manager).get(reverse("bookings:manage", args=[booking.pk])).status_code == 403
    response = h5_client(fallback).post(reverse("bookings:act", args=[booking.pk]), {"action": "accept"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ACCEPTED


@pytest.mark.django_db
def test_it_hands_an_unset_managers_booking_to_the_fallback(booking, manager, fallback):
    manager.is_channel_manager = False
    manager.save(update_fields=["is_channel_manager"])
    assert h5_client(manager).get(reverse("bookings:manage", args=[booking.pk])).status_code == 403
    assert h5_client(fallback).get(reverse("bookings:manage", args=[booking.pk])).status_code == 200


@pytest.mark.django_db
def test_it_shows_the_manager_list_only_to_handlers(customer, manager):
    assert h5_client(customer).get(reverse("bookings:manage_list")).status_code == 403
    assert h5_client(manager).get(reverse("bookings:manage_list")).status_code == 200


@pytest.mark.django_db
def test_it_never_lets_anyone_handle_his_own_booking(fallback, package):
    from tests.bookings.conftest import submit

    own = submit(fallback, package)  # a fallback recipient without a manager books for himself
    client = h5_client(fallback)
    assert client.get(reverse("bookings:manage", args=[own.pk])).status_code == 403
    assert client.post(reverse("bookings:act", args=[own.pk]), {"action": "accept"}).status_code == 403
    assert own.number not in client.get(reverse("bookings:manage_list")).content.decode()
    own.refresh_from_db()
    assert own.status == Booking.Status.PENDING
