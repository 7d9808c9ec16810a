"""Demo data for red packets: the default rules (submitted ¥10, accepted ¥30) and anti-abuse
settings. Idempotent: existing rows (perhaps edited by staff) are left alone."""

from redpackets.models import RedPacketSettings, RewardRule
from redpackets.services import ensure_default_rules


def seed(stdout) -> None:
    before = RewardRule.objects.count(), RedPacketSettings.objects.count()
    ensure_default_rules()
    after = RewardRule.objects.count(), RedPacketSettings.objects.count()
    if after != before:
        stdout.write("红包：已创建默认规则（提交预约 10 元，受理成功 30 元）和防刷参数")
    else:
        stdout.write("红包：规则与参数已存在")
