"""The H5 booking form: validation messages, nothing typed is lost, double taps, rate limit."""

import pytest
from django.urls import reverse

from bookings.models import Booking, BookingEvent
from tests.bookings.conftest import VALID, h5_client


def _post(client, package, **overrides):
    data = {**VALID, "submit_token": "tok-1", **overrides}
    return client.post(reverse("bookings:book", args=[package.pk]), data)


@pytest.mark.django_db
def test_it_shows_only_the_fields_the_package_asks_for(customer, package):
    package.form_fields = ["name", "phone"]
    package.save(update_fields=["form_fields"])
    response = h5_client(customer).get(reverse("bookings:book", args=[package.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name"' in html and 'name="phone"' in html
    assert 'name="id_number"' not in html and 'name="address"' not in html
    assert 'name="submit_token"' in html


@pytest.mark.django_db
def test_it_submits_a_booking_and_lands_on_its_query_page(customer, manager, package):
    response = _post(h5_client(customer), package)
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.pk])
    assert (booking.follower, booking.channel_manager, booking.status) == (customer, manager, "pending")
    assert (booking.name, booking.phone, booking.id_number) == ("张三", "13800138000", "11010519491231002X")
    event = BookingEvent.objects.get()
    assert (event.action, event.to_status, event.actor_follower) == ("submit", "pending", customer)
    page = h5_client(customer).get(response["Location"])
    assert booking.number in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "1380013800", "请输入正确的11位手机号码"),
        ("phone", "23800138000", "请输入正确的11位手机号码"),
        ("id_number", "110105194912310021", "身份证号校验位不正确"),
        ("id_number", "11010519491331002X", "出生日期不正确"),
        ("id_number", "1101051949", "身份证号应为18位"),
        ("name", "", "请填写姓名"),
        ("address", "", "请填写地址"),
        ("phone", "", "请填写手机号"),
    ],
)
def test_it_explains_errors_in_chinese_and_keeps_what_was_typed(customer, package, field, value, message):
    typed = {**VALID, "remarks": "请下午来", field: value}
    response = _post(h5_client(customer), package, **typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    for name, text in typed.items():
        if text and name != field:
            assert text in html, name
    if value:
        assert f'value="{value}"' in html
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_it_accepts_common_ways_of_typing_a_number(customer, package):
    _post(h5_client(customer), package, phone="+86 138-0013-8000", id_number="11010519491231002x")
    booking = Booking.objects.get()
    assert (booking.phone, booking.id_number) == ("13800138000", "11010519491231002X")


@pytest.mark.django_db
def test_it_creates_one_booking_on_a_double_tap(customer, package):
    client = h5_client(customer)
    first = _post(client, package, submit_token="same-token")
    second = _post(client, package, submit_token="same-token")
    assert Booking.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert BookingEvent.objects.count() == 1


@pytest.mark.django_db
def test_it_rate_limits_submissions_per_follower(customer, outsider, package, settings):
    settings.BOOKING_SUBMIT_LIMIT = 3
    client = h5_client(customer)
    for i in range(3):
        assert _post(client, package, submit_token=f"t{i}").status_code == 302
    response = _post(client, package, submit_token="one-too-many", remarks="第四次")
    assert response.status_code == 429
    html = response.content.decode()
    assert "提交过于频繁：10分钟内最多提交3次预约" in html
    assert "第四次" in html  # nothing typed is lost
    assert Booking.objects.filter(follower=customer).count() == 3
    # Another follower is not affected.
    assert _post(h5_client(outsider), package, submit_token="x").status_code == 302


@pytest.mark.django_db
def test_it_refuses_inactive_packages(customer, package):
    package.is_active = False
    package.save(update_fields=["is_active"])
    client = h5_client(customer)
    assert client.get(reverse("bookings:package", args=[package.pk])).status_code == 404
    assert _post(client, package).status_code == 404
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_it_shows_the_catalog_and_the_package(customer, package):
    client = h5_client(customer)
    catalog = client.get(reverse("bookings:catalog")).content.decode()
    assert "宽带安装" in catalog and "300M光宽带" in catalog
    page = client.get(reverse("bookings:package", args=[package.pk])).content.decode()
    assert "300M光纤入户" in page and "立即预约" in page


@pytest.mark.django_db
def test_it_shows_an_empty_catalog_politely(customer):
    html = h5_client(customer).get(reverse("bookings:catalog")).content.decode()
    assert "暂无可预约的业务" in html


@pytest.mark.django_db
def test_it_never_shows_unsafe_markup_of_an_introduction(customer, package):
    # Written without going through the back office (e.g. an import).
    package.intro_html = '<p>介绍</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
    package.save(update_fields=["intro_html"])
    html = h5_client(customer).get(reverse("bookings:package", args=[package.pk])).content.decode()
    assert "<p>介绍</p>" in html
    assert "<script>alert(1)" not in html and "onerror" not in html
