from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo shop (placeholder until the demo loader lands)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true")

    def handle(self, *args, **options):
        self.stdout.write("demo: nothing yet")
