"""Helpers every management command shares: acting in a change context, reporting row errors."""

from django.core.management.base import BaseCommand, CommandError

from wangge.core.imports import ImportRejected
from wangge.history.context import change_context


class ActionCommand(BaseCommand):
    """A command that runs one action; its changes are recorded with source "command"."""

    def execute(self, *args, **options):
        with change_context("command"):
            try:
                return super().execute(*args, **options)
            except ImportRejected as exc:
                for error in exc.errors:
                    self.stderr.write(str(error))
                raise CommandError(str(exc)) from exc
