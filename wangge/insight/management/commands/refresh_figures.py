from django.core.management.base import BaseCommand

from wangge.insight import facts


class Command(BaseCommand):
    help = "Rebuild the daily figures of the dashboards from the cases (after a bulk import), or --dirty only."

    def add_arguments(self, parser):
        parser.add_argument("--dirty", action="store_true", help="only the days changed since the last run")

    def handle(self, *args, dirty=False, **options):
        if dirty:
            days = facts.refresh_dirty()
            self.stdout.write(f"{len(days)} day(s) refreshed")
        else:
            done = facts.refresh_all(log=lambda line: self.stdout.write(line))
            self.stdout.write(f"{done} day(s) rebuilt")
