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
