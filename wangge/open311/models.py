"""Open311 GeoReport v2: the client applications (API keys) and what each posted request carried
beyond the case (docs/open311.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Client(models.Model):
    """A client application of the Open311 API. The key is shown once; only its hash is kept."""

    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)  # sha256 hex of the key
    key_prefix = models.CharField(_("key begins with"), max_length=8, editable=False)  # to tell keys apart
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Open311Request(models.Model):
    """A case posted through Open311: the client, its own request id (idempotency), and the fields of
    the specification the case has no column for. Contact details are not kept here: the name and
    phone go to the case's reporter fields (encrypted phone), the e-mail nowhere."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    client_request_id = models.CharField(max_length=100, blank=True)
    service_code = models.CharField(max_length=60)
    address_id = models.CharField(max_length=40, blank=True)  # the standard address code, when given
    media_url = models.URLField(max_length=500, blank=True)  # the client's own public link, never fetched
    account_id = models.CharField(max_length=100, blank=True)  # echoed to the client that posted it only
    device_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "client_request_id"],
                condition=~models.Q(client_request_id=""),
                name="open311_client_request_unique",
            )
        ]

    def __str__(self):
        return f"{self.client} · {self.client_request_id or self.case_id}"
