"""Query pages: 待办/已办 tabs, empty states and a constant number of queries per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import services
from tests.bookings.conftest import h5_client, submit


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["bookings:mine", "bookings:manage_list"])
def test_it_lists_with_a_constant_number_of_queries(customer, manager, package, page, settings):
    settings.BOOKING_SUBMIT_LIMIT = 100
    viewer = customer if page == "bookings:mine" else manager
    client = h5_client(viewer)
    submit(customer, package, token="0")
    few = _count_queries(client, reverse(page))
    for i in range(1, 12):
        submit(customer, package, token=str(i))
    many = _count_queries(client, reverse(page))
    assert few == many


@pytest.mark.django_db
def test_it_splits_open_and_closed_bookings(customer, manager, package):
    open_booking = submit(customer, package, token="o")
    closed = submit(customer, package, token="c")
    services.change_booking_status(booking_id=closed.pk, action="cancel", actor_follower=customer)
    client = h5_client(customer)
    open_html = client.get(reverse("bookings:mine")).content.decode()
    closed_html = client.get(reverse("bookings:mine") + "?tab=closed").content.decode()
    assert open_booking.number in open_html and closed.number not in open_html
    assert closed.number in closed_html and open_booking.number not in closed_html
    manager_html = h5_client(manager).get(reverse("bookings:manage_list")).content.decode()
    assert open_booking.number in manager_html


@pytest.mark.django_db
def test_it_shows_empty_states(customer, manager):
    assert "暂无待办预约" in h5_client(customer).get(reverse("bookings:mine")).content.decode()
    html = h5_client(manager).get(reverse("bookings:manage_list") + "?tab=closed").content.decode()
    assert "暂无已办的客户预约" in html


@pytest.mark.django_db
def test_it_lists_only_ones_own_or_ones_customers_bookings(customer, other_customer, other_manager, package):
    mine = submit(customer, package, token="m")
    theirs = submit(other_customer, package, token="t")
    html = h5_client(customer).get(reverse("bookings:mine")).content.decode()
    assert mine.number in html and theirs.number not in html
    html = h5_client(other_manager).get(reverse("bookings:manage_list")).content.decode()
    assert theirs.number in html and mine.number not in html


@pytest.mark.django_db
def test_it_shows_the_timeline_and_the_manager_buttons(booking, customer, manager):
    services.change_booking_status(booking_id=booking.pk, action="unreachable", actor_follower=manager, note="无人接听")
    manage = h5_client(manager).get(reverse("bookings:manage", args=[booking.pk])).content.decode()
    assert 'href="tel:13800138000"' in manage
    for label in ("受理成功", "受理失败", "联系不上"):
        assert label in manage
    assert "无人接听" in manage
    detail = h5_client(customer).get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert "无人接听" in detail and "取消预约" in detail
    assert "受理成功</button>" not in detail
    assert "138****8000" in detail
