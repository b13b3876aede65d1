from wangge.areas.actions import import_boundaries
from wangge.core.commands import ActionCommand


class Command(ActionCommand):
    help = "Attach area boundaries from a GeoJSON FeatureCollection, all features valid or nothing written."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--code-property", default="code", help="feature property holding the area code")
        parser.add_argument(
            "--crs",
            choices=["wgs84", "gcj02"],
            default="wgs84",
            help="coordinate system of the file; gcj02 is converted to WGS-84",
        )

    def handle(self, *args, file, code_property, crs, **options):
        result = import_boundaries(file, code_property=code_property, crs=crs)
        self.stdout.write(
            self.style.SUCCESS(
                f"边界导入完成: 更新 {result.updated}, 未变 {result.unchanged} ({', '.join(result.codes)})"
            )
        )
