"""Celery application. Tasks are just another interface: they take ids, reload, call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pan_channel.settings")

app = Celery("pan_channel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
