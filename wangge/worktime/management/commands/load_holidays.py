from wangge.core.commands import ActionCommand
from wangge.worktime.actions import load_holidays


class Command(ActionCommand):
    help = "Load public holidays and make-up workdays from a date,kind,name CSV, all rows valid or nothing written."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with columns date (YYYY-MM-DD), kind (holiday/workday), name")
        parser.add_argument("--source", default="", help="where the dates come from (default: the file name)")

    def handle(self, *args, file, source, **options):
        result = load_holidays(file, source=source)
        self.stdout.write(
            self.style.SUCCESS(
                f"导入完成: 新增 {result.created}, 更新 {result.updated}, 未变 {result.unchanged}"
                f" (created {result.created}, updated {result.updated}, unchanged {result.unchanged})"
            )
        )
