"""wangge import <register> FILE [--dry-run] [--partial] [--user NAME] [--rejected FILE]; --template."""

import sys

from django.core.management.base import CommandError

from wangge.accounts.models import User
from wangge.core import tabular
from wangge.core.commands import ActionCommand
from wangge.jobs import registers


class Command(ActionCommand):
    help = (
        "Import a register from CSV or XLSX, all or nothing (--partial: the valid rows), as the import page does. "
        f"Registers: {', '.join(registers.IMPORTS)}. Exits non-zero with the row errors on stderr when any row "
        "is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("register", choices=sorted(registers.IMPORTS))
        parser.add_argument("file", nargs="?")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--partial", action="store_true", help="import the valid rows, leave out the others")
        parser.add_argument("--user", help="act as this user (jurisdiction, history); default: the first superuser")
        parser.add_argument("--rejected", help="write the refused rows (same columns + 错误) to this .csv/.xlsx")
        parser.add_argument("--template", action="store_true", help="print the header row and exit")

    def handle(self, *args, register, file, dry_run, partial, user, rejected, template, **options):
        spec = registers.import_spec(register)
        if template:
            self.stdout.write(",".join(spec.headers()))
            return
        if not file:
            raise CommandError("give the FILE to import (or --template)")
        acting = (
            User.objects.filter(username=user, is_active=True).first()
            if user
            else User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        )
        if acting is None:
            raise CommandError(f"no active user {user!r}" if user else "no active superuser: give --user")
        if not spec.permitted(acting):
            raise CommandError(f"{acting.username} may not import {register}")
        try:
            outcome = tabular.run_import(
                spec, file, acting, dry_run=dry_run, partial=partial, rejected_path=rejected, preview_rows=0
            )
        except (tabular.FileProblem, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for error in outcome.errors:
            self.stderr.write(str(error))
        if outcome.error_count > len(outcome.errors):
            self.stderr.write(f"… {outcome.error_count - len(outcome.errors)} more errors")
        counts = ", ".join(f"{k} {v}" for k, v in outcome.counts.items() if v)
        if dry_run:
            self.stdout.write(
                f"检查 {outcome.total} 行: {outcome.valid} 行有效, {outcome.rejected_rows} 行有错 (dry run)"
            )
        elif outcome.rejected:
            raise CommandError(
                f"{outcome.error_count} 处错误，未写入任何数据 ({outcome.error_count} errors, nothing written)"
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"导入 {outcome.written} 行 ({counts or 'nothing changed'})"))
            if outcome.written:
                spec.after_import(acting)
        if outcome.error_count:
            sys.exit(1)
