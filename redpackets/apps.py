from django.apps import AppConfig


class RedpacketsConfig(AppConfig):
    name = "redpackets"
    verbose_name = "红包"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
