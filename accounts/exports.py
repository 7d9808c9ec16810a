"""The followers export (SPEC §3): the back office action and `manage.py export followers`."""

from accounts.models import Follower
from backoffice.exports import Column, ExportSpec, local_time, register, yes_no

try:
    # Formats the database can apply itself (COPY-speed CSV) where backoffice.exports has them.
    from backoffice.exports import boolean, choices

    _subscribed = boolean("关注中", "已取消关注")
    _source = choices(Follower.Source)
except ImportError:  # pragma: no cover - older backoffice.exports: format in Python
    SOURCES = dict(Follower.Source.choices)

    def _subscribed(value: bool) -> str:
        return "关注中" if value else "已取消关注"

    def _source(value: str) -> str:
        return SOURCES.get(value, value or "")


FOLLOWERS = register(
    ExportSpec(
        name="followers",
        title="粉丝",
        columns=[
            Column("OpenID", "openid"),
            Column("昵称", "nickname"),
            Column("手机号", "phone"),
            Column("推荐人OpenID", "referrer__openid"),
            Column("渠道经理OpenID", "channel_manager__openid"),
            Column("是否渠道经理", "is_channel_manager", yes_no),
            Column("关注状态", "is_subscribed", _subscribed),
            Column("关注时间", "subscribed_at", local_time),
            Column("推广码", "promo_code"),
            Column("首次关注时间", "first_subscribed_at", local_time),
            Column("来源", "source", _source),
            Column("归属门店", "store__name"),
            Column("姓名", "real_name"),
            Column("UnionID", "unionid"),
        ],
        base_queryset=lambda: Follower.objects.all(),
    )
)
