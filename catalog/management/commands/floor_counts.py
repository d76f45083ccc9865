"""Count again the list's kept facet counts: which products have a piece at which shop
(the list's "Available at", catalog.floor) and how many products show each value of the
other facets (catalog.facet_counts).

    manage.py floor_counts            # compare the kept counts with the stock and catalog, fix them
    manage.py floor_counts --rebuild  # count everything again, without comparing

The stock and catalog services keep the counts exact and the nightly reconcile checks
them; this is for a repair, or after stock or products written in bulk outside the
services (or a change of catalog.facet_counts.PRICE_BANDS). Safe beside a running shop
(it waits for the writes in flight, holds the next ones).
"""

from django.core.management.base import BaseCommand

from catalog.facet_counts import facets_rebuild, facets_reconcile
from catalog.floor import floor_rebuild, floor_reconcile


class Command(BaseCommand):
    help = ("Compare the kept shop floor and facet counts with the stock and catalog and "
            "fix them (or --rebuild).")

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true",
                            help="Count everything again without comparing.")

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            facets_rebuild()
            floor_rebuild()
            self.stdout.write("floor and facet counts: counted again")
            return
        for name, reconcile in (("facet counts", facets_reconcile),
                                ("floor counts", floor_reconcile)):
            wrong = reconcile()
            self.stdout.write(f"{name}: {wrong} rows differed, fixed" if wrong
                              else f"{name}: exact")
