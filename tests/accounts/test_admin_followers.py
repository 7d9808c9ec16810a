"""The followers back office: list, confirmation actions, reassign, transfer, export, history."""

import csv
import io

import openpyxl
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts import services
from accounts.models import AttributionChange, Follower, OrgUnit, QRCode
from tests.factories import FollowerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_follower_changelist")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def other_manager(db):
    return FollowerFactory(nickname="李经理", is_channel_manager=True)


def test_it_lists_followers_without_n_plus_one(staff_client, manager, customer, django_assert_max_num_queries):
    store = OrgUnit.objects.create(kind="store", code="S9", name="九号店")
    for i in range(30):
        FollowerFactory(referrer=customer, channel_manager=manager, store=store, nickname=f"批量{i}")
    with django_assert_max_num_queries(12):
        response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("admin:accounts_follower_change", args=[manager.pk]) in body
    assert "设为渠道经理" in body and "取消渠道经理" in body
    assert "移交客户" in body and "导出当前结果" in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "王经理"}, {"王经理"}),
        ({"is_channel_manager__exact": "1"}, {"王经理"}),
        ({"manager": "none"}, {"王经理", "路人"}),
    ],
)
def test_it_searches_and_filters(staff_client, manager, customer, outsider, params, expected):
    response = staff_client.get(CHANGELIST, params)
    assert response.status_code == 200
    names = {f.nickname for f in response.context["cl"].result_list}
    assert names == expected


def test_it_filters_by_manager_and_promo_code(staff_client, manager, customer, outsider):
    response = staff_client.get(CHANGELIST, {"manager": str(manager.pk)})
    assert [f.pk for f in response.context["cl"].result_list] == [customer.pk]
    response = staff_client.get(CHANGELIST, {"q": outsider.promo_code})
    assert [f.pk for f in response.context["cl"].result_list] == [outsider.pk]


def test_it_asks_for_confirmation_before_setting_managers(staff_client, outsider, customer, superuser):
    data = {"action": "make_managers", ACTION_CHECKBOX_NAME: [outsider.pk, customer.pk]}
    response = staff_client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert "确认设为渠道经理" in response.content.decode()
    outsider.refresh_from_db()
    assert not outsider.is_channel_manager

    response = staff_client.post(CHANGELIST, {**data, "apply": "1", "reason": "业绩优秀"})
    assert response.status_code == 302
    outsider.refresh_from_db()
    customer.refresh_from_db()
    assert outsider.is_channel_manager and customer.is_channel_manager
    change = AttributionChange.objects.get(follower=outsider)
    assert (change.kind, change.actor, change.reason) == ("manager_set", superuser, "业绩优秀")
    # The customer keeps his own manager: making someone a manager is forward-looking.
    assert customer.channel_manager is not None


def test_it_unsets_a_manager_after_confirmation(staff_client, manager, customer):
    data = {"action": "unmake_managers", ACTION_CHECKBOX_NAME: [manager.pk]}
    response = staff_client.post(CHANGELIST, data)
    assert "确认取消渠道经理" in response.content.decode()
    response = staff_client.post(CHANGELIST, {**data, "apply": "1", "reason": "离职"})
    assert response.status_code == 302
    manager.refresh_from_db()
    customer.refresh_from_db()
    assert not manager.is_channel_manager
    assert customer.channel_manager == manager  # kept until reassigned
    assert AttributionChange.objects.get(follower=manager).kind == "manager_unset"


def test_it_reassigns_one_follower_after_confirmation(staff_client, manager, customer, other_manager, superuser):
    url = reverse("admin:accounts_follower_reassign", args=[customer.pk])
    assert staff_client.get(url).status_code == 200

    response = staff_client.post(url, {"new_manager": other_manager.pk, "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors  # reason is required

    response = staff_client.post(url, {"new_manager": other_manager.pk, "reason": "客户搬家"})
    assert response.status_code == 200 and "确认调整" in response.content.decode()
    customer.refresh_from_db()
    assert customer.channel_manager == manager

    response = staff_client.post(url, {"new_manager": other_manager.pk, "reason": "客户搬家", "confirm": "1"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.channel_manager == other_manager
    change = AttributionChange.objects.get(follower=customer)
    assert (change.kind, change.old_manager, change.new_manager, change.actor) == (
        "reassigned",
        manager,
        other_manager,
        superuser,
    )


def test_it_transfers_all_customers_after_confirmation(staff_client, manager, customer, other_manager):
    second = FollowerFactory(channel_manager=manager)
    url = reverse("admin:accounts_follower_transfer")
    data = {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "人员调动"}
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["count"] == 2
    assert Follower.objects.filter(channel_manager=manager).count() == 2

    response = staff_client.post(url, {**data, "confirm": "1"}, follow=True)
    assert "2 位客户" in response.content.decode()
    assert set(Follower.objects.filter(channel_manager=other_manager)) == {customer, second}
    assert AttributionChange.objects.filter(kind="transferred").count() == 2


def test_it_refuses_a_transfer_to_a_non_manager(staff_client, manager, customer, outsider):
    url = reverse("admin:accounts_follower_transfer")
    response = staff_client.post(
        url, {"from_manager": manager.pk, "to_manager": outsider.pk, "reason": "x", "confirm": "1"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    customer.refresh_from_db()
    assert customer.channel_manager == manager


def test_it_shows_history_and_keeps_attribution_read_only(staff_client, manager, customer, outsider, superuser):
    services.reassign_manager(follower=customer, new_manager=None, actor=superuser, reason="测试记录")
    url = reverse("admin:accounts_follower_change", args=[customer.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "测试记录" in body and "调整渠道经理" in body
    staff_client.post(
        url,
        {
            "nickname": "张三改",
            "real_name": "",
            "phone": "13900000000",
            "address": "",
            "avatar_url": "",
            "org_unit": "",
            "openid": "oHACKED",
            "referrer": outsider.pk,
            "channel_manager": manager.pk,
            "is_channel_manager": "on",
            "attribution_changes-TOTAL_FORMS": "0",
            "attribution_changes-INITIAL_FORMS": "1",
        },
    )
    customer.refresh_from_db()
    assert customer.nickname == "张三改" and customer.phone == "13900000000"
    assert customer.openid != "oHACKED"
    assert customer.referrer is None and customer.channel_manager is None and not customer.is_channel_manager


def test_it_exports_selected_followers_as_csv(staff_client, manager, customer):
    data = {"action": "export_csv", ACTION_CHECKBOX_NAME: [customer.pk]}
    response = staff_client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["OpenID"], r["渠道经理OpenID"]) for r in rows] == [(customer.openid, manager.openid)]


def test_it_exports_the_filtered_list_as_xlsx(staff_client, manager, customer, outsider):
    url = reverse("admin:accounts_follower_export")
    response = staff_client.get(url, {"manager": str(manager.pk), "format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("OpenID", "昵称", "手机号", "推荐人OpenID", "渠道经理OpenID")
    assert [r[0] for r in rows[1:]] == [customer.openid]


def test_it_refuses_the_back_office_to_anonymous_users(client, manager):
    response = client.post(CHANGELIST, {"action": "make_managers", ACTION_CHECKBOX_NAME: [manager.pk], "apply": "1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(reverse("admin:accounts_follower_export")).status_code == 302


@pytest.mark.parametrize(
    "name",
    [
        "admin:accounts_qrcode_changelist",
        "admin:accounts_orgunit_changelist",
        "admin:accounts_attributionchange_changelist",
        "admin:wechat_inboundmessage_changelist",
        "admin:accounts_qrcode_add",
    ],
)
def test_it_shows_the_other_lists(staff_client, manager, name):
    services.ensure_qr_code(kind=QRCode.Kind.CAMPAIGN, code="C1", name="活动", channel_manager=manager)
    assert staff_client.get(reverse(name)).status_code == 200


def test_it_filters_by_store(staff_client, customer, outsider):
    store = OrgUnit.objects.create(kind="store", code="S7", name="七号店")
    Follower.objects.filter(pk=customer.pk).update(store=store)
    response = staff_client.get(CHANGELIST, {"store": str(store.pk)})
    assert [f.pk for f in response.context["cl"].result_list] == [customer.pk]
    assert "七号店" in response.content.decode()
