"""`python manage.py sync_followers`: import the account's existing followers (no referrer)."""

from django.core.management.base import BaseCommand, CommandError

from wechat import services
from wechat.gateway import GatewayError


class Command(BaseCommand):
    help = "从微信同步粉丝列表（历史粉丝导入，无推荐人；可重复执行）"

    def handle(self, *args, **options):
        try:
            result = services.sync_followers(stdout=self.stdout)
        except GatewayError as exc:
            raise CommandError(f"同步失败：{exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"完成：共 {result.seen} 人，导入/更新 {result.imported} 人"))
