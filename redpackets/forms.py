"""Parsing of the claim form: yuan text in, integer fen out (Decimal, never float)."""

from decimal import Decimal, InvalidOperation

from django import forms

from backoffice.templatetags.money import fen_to_yuan_text


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
