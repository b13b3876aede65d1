"""Rows the core helpers keep in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CacheVersion(models.Model):
    """One row per per-process cache (core.refcache): bumped whenever the rows behind it change,
    so every process knows to reload them."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    version = models.PositiveBigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("cache version")

    def __str__(self):
        return f"{self.name} {self.version}"


class UndoJournal(models.Model):
    """A long import on SQLite that commits in batches (core.sqlite.journal): while finished_at is
    empty its batches are not final, and a failure (or a crash, found on the next start) undoes
    them from its entries."""

    name = models.CharField(_("name"), max_length=100)  # e.g. the job's token
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("undo journal")

    def __str__(self):
        return self.name


class UndoEntry(models.Model):
    """The statement that undoes one row written by a journal's import (written by a TEMP trigger
    of the import's connection); applied newest first."""

    journal = models.ForeignKey(UndoJournal, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    statement = models.TextField()

    class Meta:
        verbose_name = _("undo entry")

    def __str__(self):
        return self.statement[:80]
