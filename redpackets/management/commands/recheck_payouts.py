"""`python manage.py recheck_payouts`: re-run payouts still owed (the same sweep `celery beat` runs
every five minutes), for the embedded mode without beat, or from cron."""

from django.core.management.base import BaseCommand

from redpackets import services


class Command(BaseCommand):
    help = "重新处理未完成的红包发放（查询或用同一单号重发，不会重复付款）"

    def add_arguments(self, parser):
        parser.add_argument("--min-age", type=int, default=60, help="只处理至少这么多秒未更新的领取")

    def handle(self, *args, min_age, **options):
        import datetime as dt

        ids = services.open_automatic_claim_ids(older_than=dt.timedelta(seconds=min_age))
        outcomes: dict[str, int] = {}
        for claim_id in ids:
            outcome = services.process_payout(claim_id=claim_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = "，".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "无"
        self.stdout.write(self.style.SUCCESS(f"已处理 {len(ids)} 笔：{summary}"))
