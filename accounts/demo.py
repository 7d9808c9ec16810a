"""Demo followers, org units and codes, built through the attribution services (idempotent).

The referral tree it produces (→ = "followed through the code of"):

    王经理 (manager, search)  ← 张三 ← 李四 ← 周九          all managed by 王经理
    赵六 (search)             ← 钱七                         no manager
    孙八  (store code 城东营业厅, which belongs to 王经理)     managed by 王经理
    吴十  (campaign code 春季活动, no manager)
    刘经理 (manager, search)  ← 郑十一                       managed by 刘经理
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import services
from accounts.models import Follower, OrgUnit, QRCode

ACTOR_LABEL = "演示数据"

# (openid, nickname, real name, phone, scene) — scene "u:<openid>" = that demo follower's personal code.
FOLLOWERS = [
    ("oDEMO_MGR_WANG", "王经理", "王建国", "13800000001", None),
    ("oDEMO_MGR_LIU", "刘经理", "刘海", "13800000002", None),
    ("oDEMO_ZHANG", "张三", "张三", "13900000003", "u:oDEMO_MGR_WANG"),
    ("oDEMO_LI", "李四", "李四", "13900000004", "u:oDEMO_ZHANG"),
    ("oDEMO_ZHAO", "赵六", "赵六", "13900000006", None),
    ("oDEMO_QIAN", "钱七", "钱七", "13900000007", "u:oDEMO_ZHAO"),
    ("oDEMO_SUN", "孙八", "孙八", "13900000008", "s:S001"),
    ("oDEMO_ZHOU", "周九", "周九", "13900000009", "u:oDEMO_LI"),
    ("oDEMO_WU", "吴十", "吴十", "13900000010", "c:SPRING"),
    ("oDEMO_ZHENG", "郑十一", "郑十一", "13900000011", "u:oDEMO_MGR_LIU"),
]
MANAGERS = {"oDEMO_MGR_WANG": "G001", "oDEMO_MGR_LIU": "S002"}


def _scene(scene: str | None) -> str | None:
    if scene and scene.startswith("u:"):
        return "u:" + Follower.objects.values_list("promo_code", flat=True).get(openid=scene[2:])
    return scene


def seed(stdout) -> None:
    grid = services.ensure_org_unit(kind=OrgUnit.Kind.GRID, code="G001", name="城东网格")
    units = {
        "G001": grid,
        "S001": services.ensure_org_unit(kind=OrgUnit.Kind.STORE, code="S001", name="城东营业厅", parent=grid),
        "S002": services.ensure_org_unit(kind=OrgUnit.Kind.STORE, code="S002", name="数码体验店", parent=grid),
    }
    start = timezone.now() - dt.timedelta(days=len(FOLLOWERS) + 1)
    created = 0
    for i, (openid, nickname, real_name, phone, scene) in enumerate(FOLLOWERS):
        if not Follower.objects.filter(openid=openid).exists():
            services.record_subscribe(openid=openid, scene=_scene(scene), at=start + dt.timedelta(days=i, hours=2))
            services.update_profile(
                follower=Follower.objects.get(openid=openid), nickname=nickname, real_name=real_name, phone=phone
            )
            created += 1
        if openid in MANAGERS:
            manager = Follower.objects.get(openid=openid)
            services.set_channel_manager(follower=manager, actor_label=ACTOR_LABEL, reason="演示渠道经理")
            services.assign_org_unit(follower=manager, org_unit=units[MANAGERS[openid]])
        if openid == "oDEMO_MGR_WANG":
            # The store and campaign codes exist before anyone scans them.
            wang = Follower.objects.get(openid=openid)
            services.ensure_qr_code(
                kind=QRCode.Kind.STORE,
                code="S001",
                name="城东营业厅门店码",
                org_unit=units["S001"],
                channel_manager=wang,
            )
            services.ensure_qr_code(kind=QRCode.Kind.CAMPAIGN, code="SPRING", name="春季活动海报")
    for follower in Follower.objects.filter(openid__in=[row[0] for row in FOLLOWERS]):
        services.personal_qr(follower)
    stdout.write(f"演示粉丝：新增 {created} 人（王经理、刘经理为渠道经理；OpenID 以 oDEMO_ 开头）")
