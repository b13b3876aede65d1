"""The holiday calendar: the days that differ from the Monday–Friday working week."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("public holiday")
    # A Saturday or Sunday worked in exchange for a longer holiday (调休上班).
    WORKDAY = "workday", _("make-up workday")


class CalendarDay(models.Model):
    """A date without a row follows the default: Monday to Friday working, Saturday and Sunday rest."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=50, help_text=_("The holiday, e.g. Spring Festival."))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date.isoformat()} {self.name} ({self.get_kind_display()})"
