"""The catalog in the back office and the demo data."""

import io

import pytest
from django.urls import reverse

from bookings import demo
from bookings.models import Category, NotificationRecipient, Package
from tests.bookings.conftest import admin_client_for


def _package_form(category, **overrides):
    data = {
        "category": category.pk,
        "name": "千兆宽带",
        "summary": "",
        "price_text": "¥169/月",
        "intro_html": '<p onclick="x()">好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>',
        "form_fields": ["name", "phone", "address"],
        "photos_required": "",
        "max_photos": 2,
        "photo_hint": "",
        "is_active": "on",
        "sort_order": 1,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_it_saves_a_package_with_sanitised_intro_and_checked_fields(superuser, category):
    client = admin_client_for(superuser)
    response = client.post(reverse("admin:bookings_package_add"), _package_form(category))
    assert response.status_code == 302, response.content.decode()[:2000]
    package = Package.objects.get(name="千兆宽带")
    assert "<script" not in package.intro_html and "onclick" not in package.intro_html
    assert "javascript:" not in package.intro_html
    assert "<p>好" in package.intro_html
    assert package.form_fields == ["name", "phone", "address"]


@pytest.mark.django_db
def test_it_requires_the_phone_field(superuser, category):
    client = admin_client_for(superuser)
    response = client.post(reverse("admin:bookings_package_add"), _package_form(category, form_fields=["name"]))
    assert response.status_code == 200
    assert "必须包含手机号" in response.content.decode()
    assert not Package.objects.exists()


@pytest.mark.django_db
def test_it_seeds_a_telecom_catalog_once():
    demo.seed(io.StringIO())
    counts = (Category.objects.count(), Package.objects.count(), NotificationRecipient.objects.count())
    demo.seed(io.StringIO())
    assert counts == (Category.objects.count(), Package.objects.count(), NotificationRecipient.objects.count())
    names = set(Package.objects.values_list("name", flat=True))
    for expected in ("300M光宽带", "1000M千兆宽带", "携号转网", "开卡激活", "实名登记补录", "新办手机卡（选号）"):
        assert expected in names
    assert counts[2] >= 1
