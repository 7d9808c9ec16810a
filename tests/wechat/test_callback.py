"""The WeChat callback, driven by stored XML fixtures in plaintext and AES safe mode."""

import pytest
from django.test import Client

from accounts.models import AttributionChange, Follower, QRCode, QRScan
from tests.wechat.callbacks import CALLBACK_URL, decode_reply, fixture, post_callback, signed_query
from wechat import callback
from wechat.models import InboundMessage

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["plain", "aes"])
def mode(request, settings):
    settings.WECHAT_AES_KEY = AES_KEY if request.param == "aes" else ""
    return request.param


def test_it_echoes_echostr_for_a_signed_get(client):
    response = client.get(CALLBACK_URL, signed_query(echostr="hello123"))
    assert response.status_code == 200
    assert response.content == b"hello123"


def test_it_refuses_a_get_with_a_bad_signature(client):
    query = signed_query(echostr="hello123")
    query["signature"] = "0" * 40
    response = client.get(CALLBACK_URL, query)
    assert response.status_code == 403
    assert b"hello123" not in response.content


def test_it_records_a_search_follow(client, mode):
    response = post_callback(client, fixture("subscribe", openid="oSEARCH1"))
    assert response.status_code == 200
    assert response.content == b"success" or decode_reply(response)["ToUserName"] == "oSEARCH1"  # welcome text
    follower = Follower.objects.get(openid="oSEARCH1")
    assert follower.is_subscribed
    assert follower.source == Follower.Source.SEARCH
    assert follower.referrer is None and follower.channel_manager is None
    assert follower.attributed_at is not None
    assert InboundMessage.objects.get().event == "subscribe"


def test_it_records_a_follow_through_a_personal_code(client, mode, manager):
    response = post_callback(client, fixture("subscribe_scan", openid="oNEW1", scene=f"u:{manager.promo_code}"))
    assert response.status_code == 200
    follower = Follower.objects.get(openid="oNEW1")
    assert follower.referrer == manager
    assert follower.channel_manager == manager
    assert follower.source == Follower.Source.PERSONAL_QR
    qr = QRCode.objects.get(kind="u", code=manager.promo_code)
    assert (qr.scan_count, qr.follow_count) == (1, 1)
    assert follower.source_qr == qr
    assert InboundMessage.objects.get().event == "subscribe_scan"


def test_it_counts_a_scan_while_following_without_rebinding(client, mode, manager, customer):
    response = post_callback(client, fixture("scan", openid=customer.openid, scene=f"u:{manager.promo_code}"))
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.referrer is None
    qr = QRCode.objects.get(kind="u", code=manager.promo_code)
    assert (qr.scan_count, qr.follow_count) == (1, 0)
    assert QRScan.objects.filter(follower=customer, is_follow=False).count() == 1


def test_it_records_an_unsubscribe(client, mode, customer):
    response = post_callback(client, fixture("unsubscribe", openid=customer.openid))
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.is_subscribed
    assert customer.unsubscribed_at is not None
    assert customer.channel_manager is not None


@pytest.mark.parametrize(
    ("name", "msg_type", "event"),
    [
        ("text", "text", ""),
        ("image", "image", ""),
        ("click", "event", "click"),
        ("view", "event", "view"),
        ("templatesendjobfinish", "event", "templatesendjobfinish"),
        ("masssendjobfinish", "event", "masssendjobfinish"),
        ("unknown_event", "event", "some_future_event"),
    ],
)
def test_it_stores_other_messages_and_answers_success(client, mode, name, msg_type, event):
    response = post_callback(client, fixture(name, openid="oOTHER1"))
    assert response.status_code == 200
    # "success", or a well-formed passive reply where the account has one configured.
    assert response.content == b"success" or decode_reply(response)["ToUserName"] == "oOTHER1"
    row = InboundMessage.objects.get()
    assert (row.openid, row.msg_type, row.event) == ("oOTHER1", msg_type, event)
    assert not Follower.objects.exists()


def test_it_stores_the_text_content_and_dedupes_by_msgid(client, mode):
    xml = fixture("text", openid="oTEXT1", content="宽带怎么办理", msg_id=42)
    for _ in range(3):
        assert post_callback(client, xml).status_code == 200
    row = InboundMessage.objects.get()
    assert row.dedupe_key == "m:42"
    assert row.content == "宽带怎么办理"


def test_it_sends_a_passive_reply_returned_by_a_handler(client, mode, monkeypatch):
    # Our own registry (not wechatpy) is swapped for one handler that answers.
    monkeypatch.setitem(callback.HANDLERS, "text", lambda msg: f"收到：{msg.content}")
    response = post_callback(client, fixture("text", openid="oTEXT2", content="你好"))
    assert response.status_code == 200
    reply = decode_reply(response)
    assert reply["Content"] == "收到：你好"
    assert reply["ToUserName"] == "oTEXT2"
    if mode == "aes":
        assert b"<Encrypt>" in response.content


@pytest.mark.parametrize("tamper", ["signature", "timestamp", "missing"])
def test_it_refuses_a_forged_signature_and_stores_nothing(client, mode, tamper):
    from urllib.parse import parse_qsl, urlencode

    from tests.wechat.callbacks import build_request

    query, body = build_request(fixture("subscribe", openid="oFORGED"))
    params = dict(parse_qsl(query))
    if tamper == "signature":
        params["signature"] = "f" * 40
    elif tamper == "timestamp":
        params["timestamp"] = str(int(params["timestamp"]) + 1)
    else:
        del params["signature"]
    response = client.post(f"{CALLBACK_URL}?{urlencode(params)}", data=body, content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Follower.objects.exists()


def test_it_refuses_a_forged_msg_signature_in_safe_mode(client, settings):
    from urllib.parse import parse_qsl, urlencode

    from tests.wechat.callbacks import build_request

    settings.WECHAT_AES_KEY = AES_KEY
    query, body = build_request(fixture("subscribe", openid="oFORGED"))
    params = dict(parse_qsl(query))
    params["msg_signature"] = "0" * 40
    response = client.post(f"{CALLBACK_URL}?{urlencode(params)}", data=body, content_type="text/xml")
    assert response.status_code == 403
    assert not Follower.objects.exists()


def test_it_refuses_a_body_encrypted_with_another_key(client, settings):
    settings.WECHAT_AES_KEY = AES_KEY
    other = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg"
    response = post_callback(client, fixture("subscribe", openid="oOTHERKEY"), aes_key=other)
    assert response.status_code in (400, 403)
    assert not Follower.objects.exists()


def test_it_processes_a_subscribe_delivered_three_times_once(client, mode, manager):
    xml = fixture("subscribe_scan", openid="oRETRY1", scene=f"u:{manager.promo_code}", create_time=1760000000)
    responses = [post_callback(client, xml) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert Follower.objects.filter(openid="oRETRY1").count() == 1
    follower = Follower.objects.get(openid="oRETRY1")
    assert AttributionChange.objects.filter(follower=follower).count() == 1
    qr = QRCode.objects.get(kind="u", code=manager.promo_code)
    assert (qr.scan_count, qr.follow_count) == (1, 1)
    assert InboundMessage.objects.count() == 1
    assert InboundMessage.objects.get().dedupe_key == "e:oRETRY1:1760000000:subscribe_scan"


HOSTILE_BODIES = {
    "billion_laughs": (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>&lol3;</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType></xml>"
    ),
    "external_entity": (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<xml><ToUserName>a</ToUserName><FromUserName>&xxe;</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
    ),
    "huge": "<xml><Content>" + "A" * 2_000_000 + "</Content></xml>",
    "not_xml": "this is not xml at all {}",
    "truncated": "<xml><ToUserName>a</ToUserName><FromUserName>oX",
    "empty": "",
    "wrong_root": "<root><ToUserName>a</ToUserName></root>",
    "missing_fields": "<xml><ToUserName>a</ToUserName></xml>",
    "nested_field": (
        "<xml><ToUserName>a</ToUserName><FromUserName><a>1</a></FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType></xml>"
    ),
    "duplicate_field": (
        "<xml><ToUserName>a</ToUserName><FromUserName>oA</FromUserName><FromUserName>oB</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    ),
    "bad_create_time": (
        "<xml><ToUserName>a</ToUserName><FromUserName>oA</FromUserName><CreateTime>yesterday</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    ),
    "long_openid": (
        "<xml><ToUserName>a</ToUserName><FromUserName>" + "o" * 65 + "</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    ),
    "bad_msg_id": (
        "<xml><ToUserName>a</ToUserName><FromUserName>oA</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>x</Content><MsgId>abc</MsgId></xml>"
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_it_answers_400_to_malformed_or_hostile_xml(mode, name):
    client = Client(raise_request_exception=False)
    response = post_callback(client, HOSTILE_BODIES[name])
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert not Follower.objects.exists()


def test_it_answers_400_to_a_hostile_envelope_in_safe_mode(settings):
    settings.WECHAT_AES_KEY = AES_KEY
    client = Client(raise_request_exception=False)
    from urllib.parse import urlencode

    body = HOSTILE_BODIES["billion_laughs"]
    query = signed_query(encrypt_type="aes", msg_signature="0" * 40)
    response = client.post(f"{CALLBACK_URL}?{urlencode(query)}", data=body, content_type="text/xml")
    assert response.status_code == 400


def test_it_answers_400_to_a_plaintext_body_in_safe_mode(settings):
    settings.WECHAT_AES_KEY = AES_KEY
    client = Client(raise_request_exception=False)
    response = post_callback(client, fixture("subscribe", openid="oPLAIN"), aes_key="")
    assert response.status_code == 400
    assert not Follower.objects.exists()


def test_it_rolls_back_a_failed_delivery_so_the_retry_is_processed(mode, monkeypatch):
    def broken(msg):
        raise RuntimeError("database hiccup")

    client = Client(raise_request_exception=False)
    xml = fixture("text", openid="oRETRYME", msg_id=77)
    monkeypatch.setitem(callback.HANDLERS, "text", broken)
    assert post_callback(client, xml).status_code == 500
    assert not InboundMessage.objects.exists()

    monkeypatch.setitem(callback.HANDLERS, "text", lambda msg: "好的")
    response = post_callback(client, xml)
    assert decode_reply(response)["Content"] == "好的"
    assert InboundMessage.objects.get().dedupe_key == "m:77"
