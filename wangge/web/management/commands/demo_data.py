from wangge.core.commands import ActionCommand
from wangge.demo import DEMO_PASSWORD, build_demo


class Command(ActionCommand):
    help = "Build the demo city on the real Dongguan divisions (idempotent: re-running changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["small", "city", "test"],
            default="small",
            help="small: grids in 3 towns; city: grids in every village (3,000+); test: the test suite's quick city",
        )

    def handle(self, *args, scale, **options):
        users = build_demo(scale, log=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS("\n演示账号 (demo users), 密码 (password): " + DEMO_PASSWORD))
        for u in users:
            where = u.area_code or u.department_code or "-"
            self.stdout.write(f"  {u.username:<18} {u.full_name:<12} {u.role:<20} {where}")
