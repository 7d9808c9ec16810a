"""Photo uploads: only real images within the limits, re-encoded without metadata, stored privately."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from bookings.models import Booking, BookingPhoto
from bookings.photos import photo_path
from tests.bookings.conftest import VALID, h5_client, image_bytes, upload


def _post(client, package, files, **overrides):
    data = {**VALID, "submit_token": "tok", **overrides, "photos": files}
    return client.post(reverse("bookings:book", args=[package.pk]), data)


def _bomb_png() -> bytes:
    # 12000 x 12000 one-bit pixels compress to a few kilobytes but decode to 144 MP.
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db
def test_it_stores_a_re_encoded_photo_without_metadata(customer, package):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    exif[0x010F] = "SecretCam"  # camera make
    data = image_bytes("JPEG", size=(80, 40), exif=exif.tobytes())
    response = _post(h5_client(customer), package, [upload(data)])
    assert response.status_code == 302
    photo = BookingPhoto.objects.get()
    stored = photo_path(photo.token).read_bytes()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG"
        assert not img.getexif()
        assert img.size == (40, 80)  # orientation applied
    assert (photo.width, photo.height, photo.size) == (40, 80, len(stored))
    assert len(photo.token) >= 40


@pytest.mark.django_db
@pytest.mark.parametrize("fmt,name,ctype", [("PNG", "a.png", "image/png"), ("WEBP", "a.webp", "image/webp")])
def test_it_accepts_png_and_webp(customer, package, fmt, name, ctype):
    response = _post(h5_client(customer), package, [upload(image_bytes(fmt), name, ctype)])
    assert response.status_code == 302
    assert BookingPhoto.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: upload(b"%PDF-1.4 not an image", "x.jpg"), "不是有效的图片"),
        (lambda: upload(image_bytes("GIF"), "x.gif", "image/gif"), "不是有效的图片"),
        (lambda: upload(image_bytes()[:200], "cut.jpg"), "不是有效的图片"),
        (lambda: upload(_bomb_png(), "bomb.png", "image/png"), "尺寸过大"),
    ],
    ids=["not-an-image", "gif", "truncated", "decompression-bomb"],
)
def test_it_rejects_what_is_not_an_acceptable_image(customer, package, make, message):
    response = _post(h5_client(customer), package, [make()], remarks="别丢了我")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "别丢了我" in html
    assert Booking.objects.count() == 0 and BookingPhoto.objects.count() == 0


@pytest.mark.django_db
def test_it_rejects_photos_over_the_size_limit(customer, package, settings):
    settings.BOOKING_PHOTO_MAX_BYTES = 1024
    big = image_bytes("PNG", size=(400, 400), color=(1, 2, 3))
    big += b"\0" * 2048
    response = _post(h5_client(customer), package, [upload(big, "big.png", "image/png")])
    assert response.status_code == 400
    assert "超过" in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_it_rejects_more_photos_than_the_package_allows(customer, package):
    files = [upload(image_bytes(), f"{i}.jpg") for i in range(3)]  # the package allows 2
    response = _post(h5_client(customer), package, files)
    assert response.status_code == 400
    assert "最多上传2张照片" in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.django_db
def test_it_caps_the_count_at_the_system_limit(customer, package, settings):
    settings.BOOKING_PHOTO_MAX_COUNT = 1
    files = [upload(image_bytes(), f"{i}.jpg") for i in range(2)]
    response = _post(h5_client(customer), package, files)
    assert "最多上传1张照片" in response.content.decode()


@pytest.mark.django_db
def test_it_requires_photos_when_the_package_does(customer, package):
    package.photos_required = True
    package.photo_hint = "请上传身份证正反面照片"
    package.save(update_fields=["photos_required", "photo_hint"])
    response = _post(h5_client(customer), package, [])
    assert response.status_code == 400
    assert "请上传照片（请上传身份证正反面照片）" in response.content.decode()
    assert _post(h5_client(customer), package, [upload(image_bytes())]).status_code == 302


@pytest.mark.django_db
def test_it_keeps_photos_out_of_public_urls(booking, settings):
    photo = booking.photos.get()
    path = photo_path(photo.token)
    assert path.exists()
    assert str(path).startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not str(path).startswith(str(settings.MEDIA_ROOT))
