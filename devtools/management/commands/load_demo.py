import time

from django.core.management.base import BaseCommand

from catalog.models import Product
from devtools.demo.load import demo_load, row_counts


class Command(BaseCommand):
    help = (
        "Load the demo shop: a Chinese jeweller's catalogue with drawn photos, four stores "
        "and a warehouse with stock, staff logins, members and four months of orders. "
        "Safe to run again: it adds nothing that is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing if the catalogue already has products.")
        parser.add_argument("--small", action="store_true",
                            help="A small demo for tests and quick looks (~30 products, "
                                 "40 members, ~100 orders).")

    def handle(self, *args, **options):
        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("demo: already loaded (the catalogue has products); nothing to do.")
            return

        verbose = options["verbosity"] >= 1
        started = time.monotonic()
        report = demo_load(small=options["small"],
                           log=self.stdout.write if options["verbosity"] >= 2 else lambda _l: None)
        if not verbose:
            return
        for name, detail, seconds in report.steps:
            self.stdout.write(f"  {name:<17} {detail:<40} {seconds:6.1f}s")
        counts = row_counts()
        self.stdout.write("  rows: " + ", ".join(
            f"{label.split('.')[1]} {count}" for label, count in counts.items()))
        self.stdout.write(self.style.SUCCESS(
            f"demo: loaded in {time.monotonic() - started:.1f}s. Staff log in at /admin/ as "
            "admin@o2o.example (or manager@, staff@, marketer@, analyst@, hq@o2o.example); "
            "the shopper as member@o2o.example or +8613800138000; password from "
            "DEMO_PASSWORD."))
