"""`python manage.py seed_demo`: idempotent demo data for the embedded default.

Each app that has demo data provides `<app>/demo.py` with `seed(stdout)`; running this twice
changes nothing the second time.
"""

from importlib import import_module

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_ADMIN = ("admin", "admin12345")
APPS_IN_ORDER = ("accounts", "wechat", "bookings", "redpackets", "shop")


class Command(BaseCommand):
    help = "载入演示数据（可重复执行）"

    def handle(self, *args, **options):
        with transaction.atomic():
            username, password = DEMO_ADMIN
            user_model = get_user_model()
            if not user_model.objects.filter(username=username).exists():
                user_model.objects.create_superuser(username=username, email="", password=password)
                self.stdout.write(f"已创建演示超级管理员：{username} / {password}")
            else:
                self.stdout.write(f"演示超级管理员已存在：{username}（密码 {password}，如未修改）")
            for app in APPS_IN_ORDER:
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                module.seed(self.stdout)
        # Work that must happen after commit (e.g. publishing the WeChat menu to the sandbox).
        for app in APPS_IN_ORDER:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            if hasattr(module, "after_commit"):
                module.after_commit(self.stdout)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪"))
