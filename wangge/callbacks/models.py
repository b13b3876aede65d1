"""A callback (回访): after a citizen's case closes, the hotline desk asks the citizen whether it was
resolved and how satisfied they are. One task per closing of the case."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    OPEN = "open", pgettext_lazy("callback", "To call")
    DONE = "done", pgettext_lazy("callback", "Done")


class Result(models.TextChoices):
    NONE = "", pgettext_lazy("callback", "Not yet")
    REACHED = "reached", _("Citizen reached")
    RATED = (
        "rated",
        pgettext_lazy("callback", "Rated by the citizen"),
    )  # on the tracking page or the portal: no call needed
    UNREACHABLE = "unreachable", _("Unreachable")
    NO_NUMBER = "no_number", _("No phone number")


class CallbackTask(models.Model):
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="callbacks")
    # The closing this callback is about: a case reopened and closed again gets a new callback.
    case_closed_at = models.DateTimeField()
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True, default="")
    due_at = models.DateTimeField(_("due"))
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_try_at = models.DateTimeField(_("try again after"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved per the citizen"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    reopened = models.BooleanField(_("case reopened"), default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "case_closed_at"], name="callback_once_per_closing")]
        indexes = [models.Index(fields=["state", "due_at"], name="callback_queue_idx")]

    def __str__(self):
        return f"{self.case} · {self.get_state_display()}"

    @property
    def is_satisfied(self) -> bool:
        return self.satisfaction is not None and self.satisfaction >= 4
