"""`python manage.py channel_manager {set|unset} OPENID…`: the same rules as the back office."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Follower


class Command(BaseCommand):
    help = "设置或取消渠道经理（与后台操作规则相同，并记录变更）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["set", "unset"], help="set = 设为渠道经理，unset = 取消")
        parser.add_argument("openids", nargs="+", metavar="OPENID")
        parser.add_argument("--reason", default="", help="变更原因（记入归属变更记录）")

    def handle(self, *args, action, openids, reason, **options):
        func = services.set_channel_manager if action == "set" else services.unset_channel_manager
        verb = "设为渠道经理" if action == "set" else "取消渠道经理"
        failed = 0
        for openid in openids:
            follower = Follower.objects.filter(openid=openid).first()
            if follower is None:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{openid}：未找到该粉丝"))
                continue
            changed = func(follower=follower, actor_label="命令行", reason=reason or f"命令行{verb}")
            if changed:
                self.stdout.write(self.style.SUCCESS(f"{openid}（{follower.display_name}）：已{verb}"))
            else:
                state = "已是渠道经理" if action == "set" else "本来就不是渠道经理"
                self.stdout.write(f"{openid}（{follower.display_name}）：{state}，未做改动")
        if failed:
            raise CommandError(f"{failed} 个 OpenID 处理失败")
