from django.core.management.base import CommandError

from wangge.areas.actions import GridGenerationError, generate_grids
from wangge.areas.models import Area, Level
from wangge.core.commands import ActionCommand


class Command(ActionCommand):
    help = "Cut village boundaries into base grids (Voronoi cells clipped to the village)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--village", help="village (or grid, for sub-grids) code")
        target.add_argument("--town", help="every village of this town")
        target.add_argument("--all", action="store_true", help="every village with a boundary")
        parser.add_argument("--count", type=int, required=True, help="grids per village")
        parser.add_argument("--replace", action="store_true", help="replace grids generated before")

    def handle(self, *args, village, town, all, count, replace, **options):
        if village:
            targets = list(Area.objects.filter(code=village))
            if not targets:
                raise CommandError(f"区划 {village} 不存在 (unknown area)")
        else:
            qs = Area.objects.filter(level=Level.VILLAGE).filter(boundary__isnull=False)
            if town:
                qs = qs.filter(parent__code=town)
            targets = list(qs)
        total = 0
        for area in targets:
            if not replace and not village and area.children.exists():
                continue
            try:
                total += len(generate_grids(area, count, replace=replace))
            except GridGenerationError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"生成网格 {total} 个 (created {total} grids)"))
