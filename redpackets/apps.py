from django.apps import AppConfig


class RedpacketsConfig(AppConfig):
    name = "redpackets"
    verbose_name = "红包"
