"""The personal-data access log: one immutable row each time somebody sees an ID number or a phone
in full (who, whom, which field, when, why, from where)."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("personal-data access rows are never changed")

    def delete(self):
        raise PermissionError("personal-data access rows are never deleted")


class PersonalDataAccess(models.Model):
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the row still names the viewer after the account is gone.
    user_name = models.CharField(_("user name"), max_length=150)
    object_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("whose data"), max_length=200)
    field = models.CharField(_("field"), max_length=50)
    reason = models.TextField(_("reason"))
    request_id = models.UUIDField(_("request id"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        default_permissions = ("view",)
        permissions = [("reveal_personal_data", _("Can see ID numbers and phones in full (logged)"))]

    def __str__(self):
        return f"{self.user_name} · {self.object_repr} · {self.field}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("personal-data access rows are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("personal-data access rows are never deleted")


class ExactSearch(models.Model):
    """One exact search on personal data (a full ID number, passport or phone): who, what kind, why.

    Pages and exports refer to it by its token (a redirect to ?search=<token>), so the number never
    travels in a URL; only its keyed hash is kept, and only the owner can use it. The rows of the
    last hour are the user's search budget (wangge.privacy.search)."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=100)  # "registry.person"
    field = models.CharField(max_length=50)  # "id_number", "phone", "passport"
    value_hash = models.CharField(max_length=64)
    reason = models.TextField(_("reason"), blank=True)
    found = models.PositiveIntegerField(default=0)
    time = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("exact search")
        verbose_name_plural = _("exact searches")
        indexes = [models.Index(fields=["user", "time"])]
        default_permissions = ()

    def __str__(self):
        return f"{self.user_id} · {self.target} · {self.field} · {self.time:%Y-%m-%d %H:%M}"
