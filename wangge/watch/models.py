"""Watch lists (wanted persons, key persons to watch…): restricted lists of people, screened
against the people register; the hits wait in a review queue (confirm / dismiss, logged).

Everything here is visible only with the permission watch.use_watchlists (and hits only inside
the user's jurisdiction). ID numbers are encrypted, found by keyed hash, shown masked.
Change rows only through wangge.watch.actions.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core import pii

PERMISSION = "watch.use_watchlists"


class WatchList(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("watch list")
        verbose_name_plural = _("watch lists")
        ordering = ["name"]
        permissions = [("use_watchlists", _("Can see watch lists, screen the register and review hits"))]

    def __str__(self):
        return self.name

    def history_snapshot(self) -> dict:
        return {"name": self.name, "description": self.description, "is_active": self.is_active}


class WatchEntry(models.Model):
    watch_list = models.ForeignKey(
        WatchList, verbose_name=_("watch list"), on_delete=models.CASCADE, related_name="entries"
    )
    name = models.CharField(_("name"), max_length=60)
    # The name in toneless pinyin ("zhang wei"): the fuzzy screening matches on it and the birth date.
    name_pinyin = models.CharField(max_length=200, db_index=True, editable=False)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=20, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("watch list entry")
        verbose_name_plural = _("watch list entries")
        ordering = ["watch_list", "name", "id"]
        indexes = [models.Index(fields=["birth_date", "name_pinyin"])]

    def __str__(self):
        return f"{self.name} ({self.watch_list})"

    @property
    def id_number(self) -> str:
        return pii.decrypt(self.id_number_encrypted)

    def history_snapshot(self) -> dict:
        from wangge.privacy.shown import snapshot_birth

        return {
            "watch_list": self.watch_list.name,
            "name": self.name,
            "id_number": self.id_number_masked,
            "birth_date": snapshot_birth(self.birth_date),  # the year only: beside the masked ID number
            "note": self.note,
        }


class Match(models.TextChoices):
    EXACT = "exact", _("Same ID number")
    FUZZY = "fuzzy", _("Same name sound and birth date")


class HitState(models.TextChoices):
    OPEN = "open", _("To review")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class WatchHit(models.Model):
    entry = models.ForeignKey(WatchEntry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="hits")
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="watch_hits"
    )
    match = models.CharField(_("match"), max_length=10, choices=Match.choices)
    state = models.CharField(_("state"), max_length=10, choices=HitState.choices, default=HitState.OPEN)
    area_path = models.CharField(max_length=255, db_index=True, editable=False)  # the person's: jurisdiction
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("found"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("watch list hit")
        verbose_name_plural = _("watch list hits")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["entry", "person"], name="watch_hit_unique")]
        indexes = [models.Index(fields=["state", "area_path"])]

    def __str__(self):
        return f"{self.entry.name} ↔ {self.person}"

    def history_snapshot(self) -> dict:
        return {
            "entry": self.entry_id,
            "person": self.person_id,
            "match": self.match,
            "state": self.state,
            "review_note": self.review_note,
        }
