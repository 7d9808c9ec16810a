"""Demo data of the wechat app: welcome text, keyword replies, the default menu, simulated users.

Publishing the menu. `seed_demo` runs while `make run` has not started the web server yet, and
in sandbox mode "WeChat" *is* that server, so the publish cannot go over HTTP at that moment.
`after_commit()` therefore publishes through the gateway as usual (which is what happens with a
real account, or when the sandbox is already up), and only when the target is our own sandbox and
nothing answers does it write the sandbox's published-menu state directly — the very JSON that
`menu/create` would have stored. Staff republish from the back office after editing the menu.
"""

from __future__ import annotations

from django.conf import settings

from accounts.models import Follower
from wechat import services
from wechat.gateway import GatewayError
from wechat.models import AutoReply, MenuButton, WelcomeMessage

WELCOME = (
    "欢迎关注泛渠道平台！\n"
    "点击下方菜单「业务预约」即可在线预约宽带、手机卡等业务，办理成功还有红包奖励。\n"
    "在「我的」里可以找到你的专属推广码，邀请好友关注一起领红包。\n"
    "回复「红包」了解红包规则，回复「客服」联系我们。"
)
KEYWORDS = [
    ("红包", AutoReply.Match.CONTAINS, "预约的业务受理成功后，红包会发放到「我的 → 我的红包」，点击即可领取。"),
    ("客服", AutoReply.Match.CONTAINS, "客服在线时间 9:00-18:00，直接在这里留言即可，我们会尽快回复你。"),
    ("预约", AutoReply.Match.CONTAINS, "点击菜单「业务预约」选择套餐并提交，渠道经理会尽快联系你。"),
]
CONTACT_REPLY = "客服热线 10000（9:00-18:00）。也可以直接在这里留言，客服会在48小时内回复你。"
# (name, [(name, kind, url or key), …])
MENU = [
    ("业务预约", [("套餐预约", "view", "/h5/bookings/"), ("我的预约", "view", "/h5/bookings/mine/")]),
    ("商城", [("手机数码", "view", "/h5/shop/"), ("联系客服", "click", "CONTACT")]),
    (
        "我的",
        [("个人中心", "view", "/h5/"), ("我的红包", "view", "/h5/redpackets/"), ("我的推广码", "view", "/h5/")],
    ),
]


def seed(stdout) -> None:
    if not WelcomeMessage.objects.exists():
        WelcomeMessage.objects.create(text=WELCOME)
    for keyword, match, reply in KEYWORDS:
        AutoReply.objects.get_or_create(keyword=keyword, defaults={"match": match, "reply": reply})
    if not MenuButton.objects.exists():
        for position, (name, children) in enumerate(MENU):
            parent = MenuButton.objects.create(name=name, kind=MenuButton.Kind.PARENT, position=position)
            for sub_position, (sub_name, kind, target) in enumerate(children):
                MenuButton.objects.create(
                    parent=parent,
                    name=sub_name,
                    kind=kind,
                    url=target if kind == "view" else "",
                    key=target if kind == "click" else "",
                    reply=CONTACT_REPLY if kind == "click" else "",
                    position=sub_position,
                )
    stdout.write("微信：欢迎语、关键词回复和默认菜单已就绪")
    if settings.WECHAT_SANDBOX:
        _seed_sandbox_users(stdout)


def _seed_sandbox_users(stdout) -> None:
    """WeChat's side of the demo followers, so the emulator can act as any of them."""
    from django.utils import timezone

    from wechat.sandbox.models import SandboxUser

    now = timezone.now()
    created = 0
    for follower in Follower.objects.filter(openid__startswith="oDEMO_", is_subscribed=True):
        _, was_created = SandboxUser.objects.get_or_create(
            openid=follower.openid,
            defaults={
                "nickname": follower.nickname or follower.display_name,
                "is_following": True,
                "subscribed_at": follower.subscribed_at or now,
                "subscribe_scene": "ADD_SCENE_QR_CODE" if follower.source_qr_id else "ADD_SCENE_SEARCH",
                "last_interaction_at": now,
            },
        )
        created += was_created
    stdout.write(f"微信沙箱：模拟用户新增 {created} 人（与演示粉丝对应）")


def after_commit(stdout) -> None:
    """Publish the default menu (see the module docstring for the sandbox case)."""
    buttons = services.menu_buttons()
    try:
        services.publish_menu()
    except GatewayError as exc:
        if settings.WECHAT_SANDBOX and exc.errcode is None:
            from wechat.sandbox import services as sandbox

            sandbox.store_menu(buttons=buttons)
            stdout.write("微信沙箱尚未启动：已把默认菜单直接写入沙箱的已发布菜单")
        else:
            stdout.write(f"微信菜单发布失败：{exc}（可在后台「微信菜单」中重新发布）")
        return
    stdout.write("微信菜单已发布")
