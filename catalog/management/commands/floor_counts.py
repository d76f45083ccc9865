"""Count again which products have a piece at which shop (the list's "Available at").

    manage.py floor_counts            # compare the kept counts with the stock, fix them
    manage.py floor_counts --rebuild  # count everything again, without comparing

The stock services keep the counts exact (catalog.floor) and the nightly reconcile
checks them; this is for a repair, or after stock written in bulk outside the services.
Safe beside a running shop (it waits for the sales in flight, holds the next ones).
"""

from django.core.management.base import BaseCommand

from catalog.floor import floor_rebuild, floor_reconcile


class Command(BaseCommand):
    help = "Compare the kept shop floor counts with the stock and fix them (or --rebuild)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true",
                            help="Count everything again without comparing.")

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            floor_rebuild()
            self.stdout.write("floor counts: counted again")
            return
        wrong = floor_reconcile()
        self.stdout.write(f"floor counts: {wrong} rows differed, fixed" if wrong
                          else "floor counts: exact")
