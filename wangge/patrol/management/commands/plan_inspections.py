from django.core.management.base import BaseCommand

from wangge.patrol.actions import plan_inspections
from wangge.patrol.checklists import seed_checklists


class Command(BaseCommand):
    help = "Add the seed checklists and inspection rules if missing, then open the inspection tasks now due."

    def handle(self, *args, **options):
        seed_checklists()
        created = plan_inspections()
        self.stdout.write(f"{created} inspection tasks opened")
