"""Back office: the menu is edited and published, welcome and keyword replies are editable."""

import pytest
from django.core.management import call_command

from accounts.models import Follower
from tests.wechat.sandbox_support import following_user
from wechat.models import AutoReply, MenuButton, WelcomeMessage
from wechat.sandbox import services as sandbox_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_publishes_the_menu_from_the_admin(wechat_sandbox, client, superuser):
    client.force_login(superuser)
    top = MenuButton.objects.create(name="我的", kind=MenuButton.Kind.PARENT)
    MenuButton.objects.create(parent=top, name="个人中心", kind=MenuButton.Kind.VIEW, url="/h5/")
    MenuButton.objects.create(parent=top, name="客服", kind=MenuButton.Kind.CLICK, key="KF", reply="请留言")

    response = client.post(
        "/admin/wechat/menubutton/", {"action": "publish", "_selected_action": [top.pk]}, follow=True
    )

    assert "已发布 1 个一级菜单" in response.content.decode()
    assert sandbox_services.published_menu() == [
        {
            "name": "我的",
            "sub_button": [
                {"type": "view", "name": "个人中心", "url": f"{wechat_sandbox.url}/h5/"},
                {"type": "click", "name": "客服", "key": "KF"},
            ],
        }
    ]


def test_it_reports_a_rejected_menu(wechat_sandbox, client, superuser):
    client.force_login(superuser)
    top = MenuButton.objects.create(name="一个很长很长的菜单名", kind=MenuButton.Kind.VIEW, url="/h5/")

    publish = {"action": "publish", "_selected_action": [top.pk]}
    response = client.post("/admin/wechat/menubutton/", publish, follow=True)

    assert "发布失败" in response.content.decode()
    assert "40018" in response.content.decode()
    assert sandbox_services.published_menu() is None


def test_it_edits_welcome_and_keyword_replies(client, superuser):
    client.force_login(superuser)

    client.post("/admin/wechat/welcomemessage/add/", {"text": "欢迎光临", "is_active": "on"})
    client.post(
        "/admin/wechat/autoreply/add/",
        {"keyword": "营业时间", "match": "contains", "reply": "9:00-18:00", "priority": "0", "is_active": "on"},
    )

    assert WelcomeMessage.objects.get().text == "欢迎光临"
    assert AutoReply.objects.get().reply == "9:00-18:00"
    assert client.get("/admin/wechat/outboundmessage/").status_code == 200


def test_it_syncs_followers_from_the_command(wechat_sandbox):
    user = following_user("老粉")

    call_command("sync_followers")

    assert Follower.objects.get(openid=user.openid).source == Follower.Source.IMPORT
