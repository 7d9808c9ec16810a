"""Demo catalog of a telecom operator and a fallback recipient. Idempotent: keyed by names/openids."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from accounts.models import Follower
from bookings.models import Category, NotificationRecipient, Package
from bookings.services import sanitize_intro_html

FALLBACK_OPENID = "oDEMO_FALLBACK_DUTY"

N, P, ID, A, T, R = "name", "phone", "id_number", "address", "preferred_time", "remarks"

# (category, short label shown on the thumbnail when a package has no cover, packages)
CATALOG = [
    (
        "宽带安装",
        "宽带",
        [
            {
                "name": "300M光宽带",
                "summary": "300M极速光纤入户，含光猫及上门安装",
                "price_text": "¥99/月起",
                "form_fields": [N, P, A, T, R],
                "intro_html": "<p><strong>300M光纤宽带</strong>，适合2–3口之家日常上网、高清视频。</p>"
                "<ul><li>免费上门安装，赠送千兆光猫</li><li>包年再享9折</li><li>装机后48小时内开通</li></ul>"
                "<p>提交预约后，渠道经理将电话确认安装地址是否已覆盖光纤。</p>",
            },
            {
                "name": "1000M千兆宽带",
                "summary": "千兆光纤 + 千兆Wi-Fi 6路由器，游戏直播无压力",
                "price_text": "¥169/月起",
                "form_fields": [N, P, A, T, R],
                "intro_html": "<p><strong>1000M千兆宽带</strong>，配Wi-Fi 6路由器，全屋覆盖。</p>"
                "<ul><li>上行最高100M，直播、云盘更流畅</li><li>可加装全屋组网（FTTR）</li></ul>",
            },
        ],
    ),
    (
        "5G套餐",
        "5G",
        [
            {
                "name": "5G畅享套餐 129元",
                "summary": "每月60GB国内流量 + 500分钟通话",
                "price_text": "¥129/月",
                "form_fields": [N, P, ID, T, R],
                "photos_required": True,
                "max_photos": 2,
                "photo_hint": "请上传身份证正反面照片",
                "intro_html": "<p>每月60GB国内通用流量，500分钟国内通话，5G网络优先接入。</p>"
                "<p>办理需实名核验，请准备好本人身份证。</p>",
            },
            {
                "name": "5G畅享套餐 199元",
                "summary": "每月120GB国内流量 + 1000分钟通话 + 视频会员",
                "price_text": "¥199/月",
                "form_fields": [N, P, ID, T, R],
                "photos_required": True,
                "max_photos": 2,
                "photo_hint": "请上传身份证正反面照片",
                "intro_html": "<p>每月120GB国内通用流量，1000分钟国内通话，赠送视频会员一年。</p>",
            },
        ],
    ),
    (
        "融合套餐",
        "融合",
        [
            {
                "name": "全家享融合套餐",
                "summary": "5G手机卡 + 500M宽带 + 高清电视，一家人共享",
                "price_text": "¥189/月",
                "form_fields": [N, P, ID, A, T, R],
                "max_photos": 3,
                "photo_hint": "可上传身份证照片，加快办理",
                "intro_html": "<p>主卡每月80GB流量，可加3张副卡共享；500M光宽带；高清电视200+频道。</p>",
            },
        ],
    ),
    (
        "号卡业务",
        "号卡",
        [
            {
                "name": "新办手机卡（选号）",
                "summary": "靓号自选，快递上门或到厅领取",
                "price_text": "首月免费",
                "form_fields": [N, P, ID, A, R],
                "photos_required": True,
                "max_photos": 2,
                "photo_hint": "请上传身份证正反面照片",
                "intro_html": "<p>新号码可在营业厅现场选号，也可由渠道经理代为预留。</p>",
            },
            {
                "name": "携号转网",
                "summary": "号码不变，转入享专属优惠",
                "price_text": "转入送6个月月租优惠",
                "form_fields": [N, P, ID, T, R],
                "max_photos": 2,
                "photo_hint": "可上传身份证照片",
                "intro_html": "<p>请先发送短信“CXXZ#姓名#身份证号码”到原运营商查询是否符合携转条件。</p>",
            },
        ],
    ),
    (
        "激活与实名",
        "实名",
        [
            {
                "name": "开卡激活",
                "summary": "网购号卡激活，渠道经理远程协助",
                "price_text": "免费",
                "form_fields": [N, P, ID, T],
                "photos_required": True,
                "max_photos": 3,
                "photo_hint": "请上传身份证正反面及手持身份证照片",
                "intro_html": "<p>收到号卡后预约激活，渠道经理将与您视频核验身份。</p>",
            },
            {
                "name": "实名登记补录",
                "summary": "老号码补登记实名信息，避免停机",
                "price_text": "免费",
                "form_fields": [N, P, ID, R],
                "photos_required": True,
                "max_photos": 2,
                "photo_hint": "请上传身份证正反面照片",
                "intro_html": "<p>根据国家实名制要求，未实名的号码将被限制使用，请尽快补录。</p>",
            },
        ],
    ),
]


def seed(stdout) -> None:
    created = 0
    for c_order, (category_name, icon, packages) in enumerate(CATALOG, start=1):
        category, _ = Category.objects.get_or_create(
            name=category_name, defaults={"sort_order": c_order * 10, "icon": icon}
        )
        for p_order, item in enumerate(packages, start=1):
            defaults = {
                "summary": item["summary"],
                "price_text": item["price_text"],
                "form_fields": item["form_fields"],
                "intro_html": sanitize_intro_html(item["intro_html"]),
                "photos_required": item.get("photos_required", False),
                "max_photos": item.get("max_photos", 0),
                "photo_hint": item.get("photo_hint", ""),
                "sort_order": p_order * 10,
            }
            _, was_created = Package.objects.get_or_create(category=category, name=item["name"], defaults=defaults)
            created += was_created
    duty, _ = Follower.objects.get_or_create(
        openid=FALLBACK_OPENID,
        defaults={"nickname": "值班客服", "is_subscribed": True, "subscribed_at": timezone.now()},
    )
    NotificationRecipient.objects.get_or_create(follower=duty, defaults={"note": "无渠道经理的预约通知值班客服"})
    if settings.WECHAT_SANDBOX:
        _ensure_sandbox_phone(duty)
    stdout.write(f"业务预约：新增 {created} 个套餐；兜底通知人「{duty.nickname}」（{duty.openid}）")


def _ensure_sandbox_phone(follower: Follower) -> None:
    """Give the fallback recipient a phone in the emulator, so the notices he gets can be seen."""
    from wechat.sandbox import services as sandbox
    from wechat.sandbox.models import SandboxUser

    if not SandboxUser.objects.filter(openid=follower.openid).exists():
        user = sandbox.create_user(nickname=follower.nickname, openid=follower.openid)
        sandbox.set_following(user=user, following=True)
