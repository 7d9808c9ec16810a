"""What WeChat sent us. One row per delivery; the unique dedupe key makes retries no-ops."""

from django.db import models


class InboundMessage(models.Model):
    """A message or event a follower sent to the account, as delivered to /wechat/callback.

    `dedupe_key` is `m:<MsgId>` for messages and `e:<FromUserName>:<CreateTime>:<Event>` for
    events: WeChat retries a delivery up to three times, and each copy must be processed once.
    """

    dedupe_key = models.CharField("去重键", max_length=160, unique=True)
    openid = models.CharField("OpenID", max_length=64, db_index=True)
    msg_type = models.CharField("消息类型", max_length=32)
    event = models.CharField("事件", max_length=32, blank=True)
    event_key = models.CharField("事件参数", max_length=300, blank=True)
    content = models.TextField("内容", blank=True)
    media_id = models.CharField("媒体ID", max_length=200, blank=True)
    pic_url = models.CharField("图片地址", max_length=500, blank=True)
    sent_at = models.DateTimeField("发送时间")
    received_at = models.DateTimeField("接收时间", auto_now_add=True)

    class Meta:
        verbose_name = "收到的消息"
        verbose_name_plural = "收到的消息"
        ordering = ["-id"]
        indexes = [models.Index(fields=["openid", "-id"], name="inbound_openid_idx")]

    def __str__(self):
        return f"{self.openid} {self.msg_type} {self.event}".strip()
