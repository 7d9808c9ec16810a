"""Parsing of the claim form: yuan text in, integer fen out (Decimal, never float)."""

from decimal import Decimal, InvalidOperation

from django import forms

from backoffice.templatetags.money import fen_to_yuan_text

from .models import RedPacketSettings, RewardRule


def parse_yuan_to_fen(text: str) -> int:
    """ "9.5" → 950. Raises forms.ValidationError with a Chinese message for anything else."""
    cleaned = (text or "").strip().replace("¥", "").replace("￥", "").replace("元", "").strip()
    if not cleaned:
        raise forms.ValidationError("请输入领取金额")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError("请输入正确的金额，例如 10 或 9.50") from None
    if not value.is_finite() or "e" in cleaned.lower():
        raise forms.ValidationError("请输入正确的金额，例如 10 或 9.50")
    if value < 0:
        raise forms.ValidationError("金额不能为负数")
    if value == 0:
        raise forms.ValidationError("领取金额必须大于 0")
    if value.as_tuple().exponent < -2:
        raise forms.ValidationError("金额最多保留两位小数（精确到分）")
    return int(value * 100)


class ClaimForm(forms.Form):
    amount = forms.CharField(
        label="领取金额（元）",
        max_length=20,
        strip=True,
        error_messages={"required": "请输入领取金额", "max_length": "请输入正确的金额，例如 10 或 9.50"},
    )

    def __init__(self, *args, remaining_fen: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.remaining_fen = remaining_fen

    def clean_amount(self) -> int:
        fen = parse_yuan_to_fen(self.cleaned_data.get("amount", ""))
        if fen > self.remaining_fen:
            raise forms.ValidationError(f"最多可领取 {fen_to_yuan_text(self.remaining_fen)} 元")
        return fen


def _yuan_field(label: str, *, minimum: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=12, decimal_places=2, min_value=Decimal(minimum), help_text=help_text
    )


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


class RewardRuleForm(forms.ModelForm):
    """Staff type the amount in yuan; it is stored in integer fen."""

    amount_yuan = _yuan_field("金额（元）", minimum="0.01")

    class Meta:
        model = RewardRule
        fields = ["trigger", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["amount_yuan"].initial = _yuan(self.instance.amount_fen)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount_yuan") is not None:
            self.instance.amount_fen = int(cleaned["amount_yuan"] * 100)
        return cleaned


class RedPacketSettingsForm(forms.ModelForm):
    """Budget and caps typed in yuan (0 = no limit), stored in integer fen."""

    total_budget_yuan = _yuan_field("总预算（元）", minimum="0", help_text="所有有效发放的总额上限；0 表示不限")
    daily_cap_yuan = _yuan_field(
        "每人每日上限（元）", minimum="0", help_text="每位用户每天（北京时间）获得的红包总额上限；0 表示不限"
    )
    lifetime_cap_yuan = _yuan_field(
        "每人累计上限（元）", minimum="0", help_text="每位用户累计获得的红包总额上限；0 表示不限"
    )
    FEN_FIELDS = {
        "total_budget_yuan": "total_budget_fen",
        "daily_cap_yuan": "daily_cap_fen",
        "lifetime_cap_yuan": "lifetime_cap_fen",
    }

    class Meta:
        model = RedPacketSettings
        fields = ["duplicate_window_hours"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for yuan_name, fen_name in self.FEN_FIELDS.items():
            self.fields[yuan_name].initial = _yuan(getattr(self.instance, fen_name))

    def clean(self):
        cleaned = super().clean()
        for yuan_name, fen_name in self.FEN_FIELDS.items():
            if cleaned.get(yuan_name) is not None:
                setattr(self.instance, fen_name, int(cleaned[yuan_name] * 100))
        return cleaned
