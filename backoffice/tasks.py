from celery import shared_task

from backoffice import services


@shared_task(ignore_result=True, acks_late=True)
def run_export_job(job_id: int) -> str:
    """A large back-office export, off the request; safe to run twice (the job is claimed)."""
    return services.run_export(job_id=job_id)
