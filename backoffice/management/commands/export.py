"""`python manage.py export {followers|bookings|redpackets} --format {xlsx|csv} --out FILE [--since DATE]`."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from backoffice.exports import REGISTRY, export_to_file


class Command(BaseCommand):
    help = "导出数据（与后台导出相同的列），流式写入，内存占用有上限"

    def add_arguments(self, parser):
        parser.add_argument("name", help="followers | bookings | redpackets")
        parser.add_argument("--format", dest="fmt", choices=["csv", "xlsx"], default="xlsx")
        parser.add_argument("--out", required=True, help="输出文件路径")
        parser.add_argument("--since", help="只导出该日期（YYYY-MM-DD）之后的记录")

    def handle(self, *args, name, fmt, out, since, **options):
        if name not in REGISTRY:
            raise CommandError(f"未知的导出类型 {name!r}，可选：{', '.join(sorted(REGISTRY))}")
        since_date = None
        if since:
            try:
                since_date = dt.date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since 日期格式应为 YYYY-MM-DD：{since}") from exc
        count = export_to_file(name, fmt, out, since=since_date)
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 行到 {out}"))
