"""Background exports: started from the back office, run by a Celery task, progress in the row."""

from __future__ import annotations

import logging
import pickle

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backoffice.exports import export_to_file
from backoffice.models import ExportJob

logger = logging.getLogger(__name__)

Status = ExportJob.Status


def start_export(*, name: str, fmt: str, queryset: QuerySet, label: str, user) -> ExportJob:
    """Record an export of `queryset` (export `name`, csv or xlsx) and run it after commit."""
    from backoffice.tasks import run_export_job

    with transaction.atomic():
        job = ExportJob.objects.create(
            name=name,
            label=label[:60],
            fmt=fmt,
            model_label=queryset.model._meta.label,
            query=pickle.dumps(queryset.query),
            total_rows=queryset.count(),
            created_by=user,
        )
        transaction.on_commit(lambda: run_export_job.delay(job.pk))
    return job


def job_path(job: ExportJob):
    return settings.EXPORT_ROOT / job.file_name


def run_export(*, job_id: int) -> str:
    """Claim the job (pending → running) and write its file; a second run finds nothing to do."""
    if not ExportJob.objects.filter(pk=job_id, status=Status.PENDING).update(status=Status.RUNNING):
        return "skipped"
    job = ExportJob.objects.get(pk=job_id)
    queryset = apps.get_model(job.model_label).objects.all()
    queryset.query = pickle.loads(job.query)  # noqa: S301 - our own pickle, written by start_export
    settings.EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    file_name = f"{job.name}-{job.pk}-{timezone.localtime():%Y%m%d-%H%M%S}.{job.fmt}"

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(rows_done=rows)

    try:
        rows = export_to_file(
            job.name, job.fmt, str(settings.EXPORT_ROOT / file_name), queryset=queryset, progress=progress
        )
    except Exception as exc:  # noqa: BLE001 - the job must end in a state staff can see
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        return Status.FAILED
    ExportJob.objects.filter(pk=job_id).update(
        status=Status.DONE,
        rows_done=rows,
        total_rows=rows,
        file_name=file_name,
        finished_at=timezone.now(),
    )
    return Status.DONE
