"""Telecom catalog and bookings (业务预约). Status is written only by
`bookings.services.change_booking_status()`; see TRANSITIONS there."""

import secrets

from django.conf import settings
from django.db import models


class Category(models.Model):
    name = models.CharField("名称", max_length=50)
    icon = models.CharField(
        "图标文字",
        max_length=200,
        blank=True,
        help_text="套餐没有封面图时缩略图上显示的短文字，如“宽带”“5G”（取前2个字）",
    )
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("上架", default=True)

    class Meta:
        verbose_name = "业务分类"
        verbose_name_plural = "业务分类"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


class Package(models.Model):
    """An item of the catalog; `form_fields` says which of the booking form fields it asks for."""

    class Field(models.TextChoices):
        NAME = "name", "姓名"
        PHONE = "phone", "手机号"
        ID_NUMBER = "id_number", "身份证号"
        ADDRESS = "address", "地址"
        PREFERRED_TIME = "preferred_time", "预约时间"
        REMARKS = "remarks", "备注"

    category = models.ForeignKey(Category, verbose_name="分类", on_delete=models.PROTECT, related_name="packages")
    name = models.CharField("名称", max_length=80)
    cover = models.ImageField("封面", upload_to="covers/", blank=True)
    summary = models.CharField("简介", max_length=200, blank=True)
    intro_html = models.TextField("详细介绍", blank=True, help_text="富文本，保存时自动清理不安全内容")
    price_text = models.CharField("价格说明", max_length=50, blank=True)
    form_fields = models.JSONField(
        "表单字段", default=list, help_text="name/phone/id_number/address/preferred_time/remarks"
    )
    photos_required = models.BooleanField("必须上传照片", default=False)
    max_photos = models.PositiveSmallIntegerField("照片数量上限", default=3)
    photo_hint = models.CharField("照片说明", max_length=100, blank=True)
    is_active = models.BooleanField("上架", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "套餐"
        verbose_name_plural = "套餐"
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


def new_booking_number() -> str:
    return "B" + secrets.token_hex(6).upper()


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待受理"
        ACCEPTED = "accepted", "受理成功"
        REJECTED = "rejected", "受理失败"
        COMPLETED = "completed", "已办结"
        CANCELLED = "cancelled", "已取消"

    OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED)

    number = models.CharField("预约编号", max_length=20, unique=True, default=new_booking_number)
    follower = models.ForeignKey(
        "accounts.Follower", verbose_name="用户", on_delete=models.PROTECT, related_name="bookings"
    )
    package = models.ForeignKey(Package, verbose_name="套餐", on_delete=models.PROTECT, related_name="bookings")
    channel_manager = models.ForeignKey(
        "accounts.Follower",
        verbose_name="渠道经理",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_bookings",
    )
    store = models.ForeignKey(
        "accounts.OrgUnit", verbose_name="门店", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField("姓名", max_length=32, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True, db_index=True)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    preferred_time = models.CharField("预约时间", max_length=50, blank=True)
    remarks = models.CharField("备注", max_length=500, blank=True)

    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    contact_attempts = models.PositiveSmallIntegerField("联系不上次数", default=0)
    reject_reason = models.CharField("失败原因", max_length=200, blank=True)
    # Client-supplied token of the submit form, so a double tap creates one booking.
    submit_token = models.CharField("提交令牌", max_length=64, blank=True)

    submitted_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "预约"
        verbose_name_plural = "预约"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["follower", "-id"], name="booking_follower_idx"),
            models.Index(fields=["channel_manager", "status", "-id"], name="booking_manager_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "submit_token"],
                condition=~models.Q(submit_token=""),
                name="booking_submit_token_unique",
            )
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class BookingPhoto(models.Model):
    """A re-encoded photo, stored under PRIVATE_MEDIA_ROOT with an unguessable name."""

    booking = models.ForeignKey(Booking, verbose_name="预约", on_delete=models.CASCADE, related_name="photos")
    token = models.CharField("文件名", max_length=64, unique=True)
    content_type = models.CharField("类型", max_length=30, default="image/jpeg")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    size = models.PositiveIntegerField("字节数", default=0)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "预约照片"
        verbose_name_plural = "预约照片"
        ordering = ["id"]


class BookingEvent(models.Model):
    """Timeline row: one per status change (or contact attempt)."""

    booking = models.ForeignKey(Booking, verbose_name="预约", on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20)
    action = models.CharField("动作", max_length=20)
    note = models.CharField("备注", max_length=500, blank=True)
    actor_follower = models.ForeignKey(
        "accounts.Follower",
        verbose_name="操作人(微信)",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人(后台)", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "预约进度"
        verbose_name_plural = "预约进度"
        ordering = ["id"]

    def __str__(self):
        return f"进度 #{self.pk}"


class NotificationRecipient(models.Model):
    """Fallback recipients of new-booking notices when the customer has no channel manager."""

    follower = models.OneToOneField(
        "accounts.Follower", verbose_name="接收人", on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField("启用", default=True)
    note = models.CharField("备注", max_length=100, blank=True)

    class Meta:
        verbose_name = "兜底通知人"
        verbose_name_plural = "兜底通知人（无渠道经理时接收预约通知）"
