"""The followers export (SPEC §3): the back office action and `manage.py export followers`."""

from accounts.models import Follower
from backoffice.exports import Column, ExportSpec, boolean, choices, local_time, register, yes_no

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
            Column("关注状态", "is_subscribed", boolean("关注中", "已取消关注")),
            Column("关注时间", "subscribed_at", local_time),
            Column("推广码", "promo_code"),
            Column("首次关注时间", "first_subscribed_at", local_time),
            Column("来源", "source", choices(Follower.Source)),
            Column("归属门店", "store__name"),
            Column("姓名", "real_name"),
            Column("UnionID", "unionid"),
        ],
        base_queryset=lambda: Follower.objects.all(),
    )
)
