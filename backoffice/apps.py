from importlib import import_module

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "后台管理"

    def ready(self):
        # Each app declares its exports in `<app>/exports.py`.
        for app in ("accounts", "bookings", "redpackets", "shop"):
            try:
                import_module(f"{app}.exports")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.exports":
                    raise
