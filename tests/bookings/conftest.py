"""Actors and helpers of the booking tests: a customer, his manager, another manager, another
customer, staff with and without the booking permissions, and a small catalog."""

from __future__ import annotations

import io
import shutil

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.h5auth import SESSION_KEY
from bookings import services
from bookings.models import Category, NotificationRecipient, Package
from bookings.photos import ProcessedPhoto, process_upload
from tests.factories import FollowerFactory, UserFactory


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    yield
    shutil.rmtree(tmp_path / "private", ignore_errors=True)


@pytest.fixture
def category(db):
    return Category.objects.create(name="宽带安装")


@pytest.fixture
def package(category):
    return Package.objects.create(
        category=category,
        name="300M光宽带",
        price_text="¥99/月起",
        form_fields=["name", "phone", "id_number", "address", "preferred_time", "remarks"],
        max_photos=2,
        intro_html="<p>300M光纤入户</p>",
    )


@pytest.fixture
def other_manager(db):
    return FollowerFactory(nickname="李经理", is_channel_manager=True)


@pytest.fixture
def other_customer(db, other_manager):
    return FollowerFactory(nickname="李四", channel_manager=other_manager)


@pytest.fixture
def fallback(db):
    duty = FollowerFactory(nickname="值班客服")
    NotificationRecipient.objects.create(follower=duty)
    return duty


def staff_user(*codenames: str):
    user = UserFactory()
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="bookings", codename=codename))
    return user


@pytest.fixture
def staff_with_perm(db):
    return staff_user("view_booking", "change_booking")


@pytest.fixture
def staff_without_perm(db):
    return staff_user()


def h5_client(follower) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = follower.pk
    session.save()
    return client


def admin_client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


VALID = {
    "name": "张三",
    "phone": "13800138000",
    "id_number": "11010519491231002X",
    "address": "北京市朝阳区建国路1号",
    "preferred_time": "周六上午",
    "remarks": "",
}


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 30, 30), **save_kwargs) -> bytes:
    mode = "RGBA" if fmt == "PNG" and save_kwargs.pop("alpha", False) else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save_kwargs)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo() -> ProcessedPhoto:
    return process_upload(upload(image_bytes()))


def submit(follower, package, *, photos=(), token="", **data):
    booking, _ = services.submit_booking(
        follower=follower, package=package, data={**VALID, **data}, photos=list(photos), submit_token=token
    )
    return booking


@pytest.fixture
def booking(customer, package):
    """A pending booking of `customer`, assigned to his manager, with one photo."""
    return submit(customer, package, photos=[photo()])


def private_root():
    return settings.PRIVATE_MEDIA_ROOT
