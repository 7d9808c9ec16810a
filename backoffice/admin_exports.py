"""The one way the back office hands out an export: small ones at once, large ones as a
background job with progress (a million rows take longer than a request should)."""

from __future__ import annotations

import os
import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from backoffice.exports import export_to_file
from backoffice.services import start_export

FORMATS = ("xlsx", "csv")


def inline_limit() -> int:
    return settings.EXPORT_INLINE_LIMIT


def export_response(request, *, name: str, fmt: str, queryset, label: str):
    """Send the file now, or start a background job and show its progress page."""
    if fmt not in FORMATS:
        fmt = "xlsx"
    if queryset.count() > inline_limit():
        job = start_export(name=name, fmt=fmt, queryset=queryset, label=label, user=request.user)
        messages.info(request, f"数据较多（约 {job.total_rows:,} 行），已转为后台导出，完成后可在此下载。")
        return HttpResponseRedirect(reverse("admin:backoffice_exportjob_change", args=[job.pk]))
    handle, path = tempfile.mkstemp(suffix=f".{fmt}", prefix=f"{name}-")
    os.close(handle)
    try:
        export_to_file(name, fmt, path, queryset=queryset)
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        os.unlink(path)  # the open handle keeps the data readable until the response is sent
    filename = f"{label}-{timezone.localtime():%Y%m%d-%H%M%S}.{fmt}"
    return FileResponse(stream, as_attachment=True, filename=filename)
