"""Booking photos: verify, re-encode and store privately.

An upload is never stored as sent. It is opened with Pillow (header only) to check its format
and pixel count before any decoding, verified, reopened and decoded, turned upright from its
EXIF orientation, downscaled and re-encoded without metadata (EXIF, GPS, ICC, comments). The
file name is an unguessable token; files live under PRIVATE_MEDIA_ROOT, which no URL maps to.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Phone cameras produce up to ~50 MP; anything beyond is refused before it is decoded.
MAX_PIXELS = 50_000_000
# Long side after re-encoding: plenty to read an ID card, small enough for a phone to load.
MAX_SIDE = 2048
JPEG_QUALITY = 85


class PhotoError(Exception):
    """An upload that is not an acceptable photo; the message is shown to the customer."""


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    content_type: str
    width: int
    height: int


def process_upload(upload) -> ProcessedPhoto:
    """Return the re-encoded photo, or raise PhotoError with a Chinese message."""
    name = getattr(upload, "name", "") or "照片"
    if upload.size > settings.BOOKING_PHOTO_MAX_BYTES:
        limit_mb = settings.BOOKING_PHOTO_MAX_BYTES / (1024 * 1024)
        raise PhotoError(f"照片「{name}」超过 {limit_mb:g}MB，请压缩后重新上传")
    raw = upload.read()
    # Turn Pillow's decompression-bomb warning into an error, and keep its hard limit at ours.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _reencode(raw)
        except PhotoError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(f"照片「{name}」尺寸过大，请上传普通手机照片") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
            raise PhotoError(f"「{name}」不是有效的图片，请上传 JPG、PNG 或 WebP 格式的照片") from None


def _reencode(raw: bytes) -> ProcessedPhoto:
    with Image.open(io.BytesIO(raw)) as probe:
        if probe.format not in ALLOWED_FORMATS:
            raise UnidentifiedImageError(probe.format)
        width, height = probe.size
        if width * height > MAX_PIXELS:
            raise Image.DecompressionBombError(f"{width}x{height}")
        probe.verify()
    # verify() leaves the image unusable: reopen to decode.
    with Image.open(io.BytesIO(raw)) as image:
        image.load()
        image = ImageOps.exif_transpose(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        keep_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
        out = io.BytesIO()
        if keep_alpha:
            image = image.convert("RGBA")
            image.save(out, format="PNG", optimize=True)
            content_type = "image/png"
        else:
            image = image.convert("RGB")
            image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
            content_type = "image/jpeg"
        return ProcessedPhoto(out.getvalue(), content_type, image.width, image.height)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def photo_path(token: str) -> Path:
    # Two-level fan-out keeps directories small; the token alphabet is URL-safe base64 only.
    return Path(settings.PRIVATE_MEDIA_ROOT) / "bookings" / token[:2] / token


def write_photo(token: str, data: bytes) -> Path:
    path = photo_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def delete_photo(token: str) -> None:
    photo_path(token).unlink(missing_ok=True)
