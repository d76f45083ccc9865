from django.core.management.base import BaseCommand

from analytics.services import events_flush, product_insights_refresh


class Command(BaseCommand):
    help = ("Recompute popularity and 'often viewed/bought together' now (beat does it "
            "nightly); --async hands it to the Celery worker instead.")

    def add_arguments(self, parser):
        parser.add_argument("--async", action="store_true", dest="run_async")

    def handle(self, *args, run_async=False, **options):
        if run_async:
            from analytics.tasks import product_insights_refresh_task

            product_insights_refresh_task.delay()
            self.stdout.write("queued for the worker")
            return
        moved = events_flush()
        result = product_insights_refresh()
        self.stdout.write(f"events flushed: {moved}; {result}")
