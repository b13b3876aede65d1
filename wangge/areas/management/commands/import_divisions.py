from wangge.areas.actions import import_divisions
from wangge.core.commands import ActionCommand


class Command(ActionCommand):
    help = "Import administrative divisions from CSV (code,name or code,name,town_code), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="CSV files, in any order")

    def handle(self, *args, files, **options):
        result = import_divisions(files)
        self.stdout.write(
            self.style.SUCCESS(
                f"导入完成: 新增 {result.created}, 更新 {result.updated}, 未变 {result.unchanged}"
                f" (created {result.created}, updated {result.updated}, unchanged {result.unchanged})"
            )
        )
