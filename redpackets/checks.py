"""System checks: a payout provider that cannot work is a configuration error, found at start-up
rather than by a customer whose red packet never arrives."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def payout_provider_configured(app_configs, **kwargs):
    errors = []
    provider = settings.PAYOUT_PROVIDER
    if provider == "sandbox" and not settings.WECHAT_SANDBOX:
        errors.append(
            Error(
                "PAYOUT_PROVIDER=sandbox needs the built-in sandbox (WECHAT_SANDBOX=1).",
                hint="Use PAYOUT_PROVIDER=manual or wechatpay in production.",
                id="redpackets.E001",
            )
        )
    if provider == "wechatpay" and not settings.WECHAT_SANDBOX:
        missing = [
            name
            for name in ("WECHATPAY_MCH_ID", "WECHATPAY_API_KEY", "WECHATPAY_CERT_PATH", "WECHATPAY_KEY_PATH")
            if not getattr(settings, name, "")
        ]
        if missing:
            errors.append(
                Error(
                    f"PAYOUT_PROVIDER=wechatpay needs {', '.join(missing)}.",
                    hint="Cash red packets are signed with the API key and sent with the merchant certificate.",
                    id="redpackets.E002",
                )
            )
    return errors
