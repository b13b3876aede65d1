from wangge.cases.taxonomy import BUNDLED, import_taxonomy
from wangge.core.commands import ActionCommand


class Command(ActionCommand):
    help = (
        "Load the digital city-management classification (部件/事件) from a CSV with columns "
        "kind,major_code,major_name,minor_code,minor_name. Without FILE: the bundled edition."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(BUNDLED))
        parser.add_argument("--edition", default="", help="name of the edition, e.g. GB/T 47678.5-2026")

    def handle(self, *args, file, edition, **options):
        result = import_taxonomy(file, edition=edition)
        self.stdout.write(
            self.style.SUCCESS(
                f"categories: {result.created} created, {result.updated} updated, {result.deactivated} deactivated"
            )
        )
