"""Compute the dashboards' facts and rollups again: a range of days, or everything.

    manage.py analytics_rebuild                      # everything, from scratch
    manage.py analytics_rebuild --start 2026-11-01 --end 2026-11-30
    manage.py analytics_rebuild --places --tiers     # also members' places, tier moves

The fold (beat) keeps them current and the nightly reconcile redoes yesterday; this is
for a repair, or after importing history. Safe beside a running shop (the same locks).
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from analytics.services.members import places_rebuild, tier_moves_fold
from analytics.services.rollups import rollups_rebuild, rollups_rebuild_all, shop_today


class Command(BaseCommand):
    help = "Compute the dashboards' facts and rollups again (a range of days, or everything)."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=date.fromisoformat)
        parser.add_argument("--end", type=date.fromisoformat)
        parser.add_argument("--places", action="store_true", help="Members by place, too.")
        parser.add_argument("--tiers", action="store_true",
                            help="Tier moves of the months not folded yet, too.")

    def handle(self, *args, start=None, end=None, places=False, tiers=False, **options):
        if (start is None) != (end is None):
            raise CommandError("Give both --start and --end, or neither (everything).")
        if start is None:
            counts = rollups_rebuild_all(log_to=self.stdout.write)
        else:
            if start > end:
                raise CommandError("--start is after --end.")
            counts = rollups_rebuild(start=start, end=end)
        self.stdout.write(f"cells: {counts}")
        if tiers:
            months = tier_moves_fold(back_to=shop_today() - timedelta(days=730))
            self.stdout.write(f"tier moves: {months} months")
        if places:
            self.stdout.write(f"places: {places_rebuild()} cells")
