from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core import pii


class CaseCaller(models.Model):
    """A caller the desk linked to an existing case (the same problem, called in again): they are
    told its outcome like its reporter, and the case shows in their history."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="callers")
    phone_encrypted = models.TextField(editable=False)
    # Keyed hash of the normalised number (core.pii.lookup_hash): the caller lookup's index.
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    name = models.CharField(_("caller's name"), max_length=50, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("linked by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        verbose_name = _("linked caller")
        verbose_name_plural = _("linked callers")
        constraints = [models.UniqueConstraint(fields=["case", "phone_hash"], name="hotline_one_link_per_caller")]

    def __str__(self):
        return pii.mask_phone(self.phone)

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)
