"""The H5 booking form: which fields it shows comes from the package; photos are verified here."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from bookings.models import Package
from bookings.photos import PhotoError, ProcessedPhoto, process_upload
from bookings.validators import normalise_id_number, normalise_mobile

F = Package.Field


def _text(label: str, max_length: int, *, required: bool = True, placeholder: str = "", **attrs) -> forms.CharField:
    widget_attrs = {"class": "weui-input", "placeholder": placeholder or f"请输入{label}", **attrs}
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs=widget_attrs),
        error_messages={
            "required": f"请填写{label}",
            "max_length": f"{label}不能超过{max_length}个字",
        },
    )


def _field(name: str) -> forms.Field:
    if name == F.NAME:
        return _text("姓名", 32, autocomplete="name")
    if name == F.PHONE:
        return _text("手机号", 20, placeholder="请输入11位手机号", type="tel", inputmode="numeric", autocomplete="tel")
    if name == F.ID_NUMBER:
        return _text("身份证号", 20, placeholder="请输入18位身份证号", autocomplete="off")
    if name == F.ADDRESS:
        return _text("地址", 200, placeholder="请输入详细地址（区/街道/小区/门牌号）", autocomplete="street-address")
    if name == F.PREFERRED_TIME:
        return _text("预约时间", 50, placeholder="如：周六上午、工作日晚上")
    if name == F.REMARKS:
        return forms.CharField(
            label="备注",
            max_length=500,
            required=False,
            widget=forms.Textarea(
                attrs={"class": "weui-textarea", "rows": 3, "placeholder": "其他需要说明的情况（选填）"}
            ),
            error_messages={"max_length": "备注不能超过500个字"},
        )
    raise ValueError(name)


def package_fields(package: Package) -> list[str]:
    # Keep the catalog's order stable whatever order staff ticked the boxes in.
    chosen = set(package.form_fields or [])
    fields = [name for name in F.values if name in chosen]
    return fields or [F.NAME, F.PHONE]


class BookingForm(forms.Form):
    submit_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, package: Package, **kwargs):
        super().__init__(*args, **kwargs)
        self.package = package
        for name in package_fields(package):
            self.fields[name] = _field(name)
        self.processed_photos: list[ProcessedPhoto] = []

    @property
    def max_photos(self) -> int:
        return min(self.package.max_photos, settings.BOOKING_PHOTO_MAX_COUNT)

    @property
    def asks_photos(self) -> bool:
        return self.max_photos > 0

    def clean_phone(self) -> str:
        return normalise_mobile(self.cleaned_data["phone"])

    def clean_id_number(self) -> str:
        return normalise_id_number(self.cleaned_data["id_number"])

    def clean(self):
        cleaned = super().clean()
        uploads = [f for f in (self.files.getlist("photos") if self.files else []) if f]
        if uploads and not self.asks_photos:
            raise ValidationError("该业务无需上传照片")
        if len(uploads) > self.max_photos:
            self.add_error(None, f"最多上传{self.max_photos}张照片，您选择了{len(uploads)}张")
            return cleaned
        if self.package.photos_required and not uploads:
            hint = f"（{self.package.photo_hint}）" if self.package.photo_hint else ""
            self.add_error(None, f"请上传照片{hint}")
            return cleaned
        for upload in uploads:
            try:
                self.processed_photos.append(process_upload(upload))
            except PhotoError as exc:
                self.add_error(None, str(exc))
        return cleaned

    def booking_data(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in F.values if name in self.fields}


class ActionForm(forms.Form):
    action = forms.CharField(max_length=20)
    note = forms.CharField(max_length=200, required=False)
    return_to = forms.ChoiceField(choices=[("detail", "detail"), ("manage", "manage")], required=False)
