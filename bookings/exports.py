"""The bookings export (SPEC §3): same columns in the back office and `manage.py export bookings`."""

from backoffice.exports import Column, ExportSpec, choices, local_time, register
from bookings.models import Booking

BOOKINGS_EXPORT = register(
    ExportSpec(
        name="bookings",
        title="业务预约",
        columns=[
            Column("预约编号", "number"),
            Column("用户OpenID", "follower__openid"),
            Column("姓名", "name"),
            Column("手机号", "phone"),
            Column("套餐", "package__name"),
            Column("状态", "status", choices(Booking.Status)),
            Column("渠道经理OpenID", "channel_manager__openid"),
            Column("提交时间", "submitted_at", local_time),
            Column("受理时间", "accepted_at", local_time),
        ],
        base_queryset=lambda: Booking.objects.all(),
        since_field="submitted_at",
    )
)
