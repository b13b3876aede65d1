"""Long-running work of one user (imports, exports, screenings), run by the worker or in the request.

A Job is claimed atomically (queued → running by a conditional UPDATE), reports its progress in
batches, and keeps its files (the uploaded input, the result, the rejected-rows report) under
settings.JOBS_ROOT, outside the public media: only the owner, or staff, can download them.
Change jobs only through wangge.jobs.actions.
"""

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def job_storage():
    return FileSystemStorage(location=settings.JOBS_ROOT, base_url=None)


def job_file_path(job, filename: str) -> str:
    return f"{job.token.hex}/{filename}"


class Kind(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    SCREENING = "screening", _("Watch list screening")


class State(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED = (State.DONE, State.FAILED)


class Job(models.Model):
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    register = models.CharField(_("register"), max_length=50)  # the import/export spec's name
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="jobs"
    )
    # The owner's jurisdiction when the job was made (area path roots; ["/"] for the whole city).
    area_paths = models.JSONField(_("jurisdiction"), default=list, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(_("stage"), max_length=50, blank=True)
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.TextField(_("message"), blank=True)
    input_name = models.CharField(_("input file name"), max_length=255, blank=True)
    input_file = models.FileField(storage=job_storage, upload_to=job_file_path, max_length=255, blank=True)
    result_file = models.FileField(storage=job_storage, upload_to=job_file_path, max_length=255, blank=True)
    error_file = models.FileField(storage=job_storage, upload_to=job_file_path, max_length=255, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="jobs_owner_idx")]

    def __str__(self):
        from .registers import title

        return f"{self.get_kind_display()} {title(self.register, self.kind)} #{self.pk}"

    @property
    def directory(self) -> Path:
        return Path(settings.JOBS_ROOT) / self.token.hex

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def dry_run(self) -> bool:
        return bool(self.params.get("dry_run"))

    def live_progress(self) -> tuple[int, int, str]:
        """(done, total, stage): from the row, or from the progress file while a transaction hides the row."""
        done, total, stage = self.done, self.total, self.stage
        if self.state == State.RUNNING:
            try:
                data = json.loads((self.directory / "progress.json").read_text())
                if data["done"] >= done:
                    done, total, stage = data["done"], data["total"], data.get("stage", stage)
            except (OSError, ValueError, KeyError):
                pass
        return done, total, stage

    @property
    def percent(self) -> int:
        done, total, _stage = self.live_progress()
        if self.state == State.DONE:
            return 100
        return min(100, int(done * 100 / total)) if total else 0

    def visible_to(self, user) -> bool:
        return user.is_authenticated and (user.pk == self.owner_id or user.is_staff or user.is_superuser)
