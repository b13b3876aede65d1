"""Every change to a Job: made, claimed, advanced, finished, cleaned up. And the two runners
(import, export) that the worker — or the request, for small files — calls through run()."""

import json
import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from wangge.accounts.scope import scope_for
from wangge.core import tabular
from wangge.core.sqlite import journal

from . import files, registers
from .models import FINISHED, Job, Kind, State, job_file_path

logger = logging.getLogger(__name__)


def jurisdiction(user) -> list[str]:
    scope = scope_for(user)
    return ["/"] if scope.everything else list(scope.visible_area_paths)


@transaction.atomic
def create_job(
    kind: str, register: str, owner, *, params: dict | None = None, upload=None, input_name: str = ""
) -> Job:
    """A queued job; upload (an uploaded or open file) is stored as its input."""
    job = Job.objects.create(
        kind=kind,
        register=register,
        owner=owner,
        area_paths=jurisdiction(owner),
        params=params or {},
        input_name=(input_name or getattr(upload, "name", "") or "")[:255],
    )
    if upload is not None:
        suffix = Path(job.input_name).suffix.lower()[:8]
        name = job_file_path(job, f"input{suffix}")
        files.save_upload(upload, job.input_file.storage.path(name))  # encrypted at rest
        job.input_file.name = name
        job.save(update_fields=["input_file"])
    return job


def start(job: Job, *, inline: bool) -> Job:
    """Run the job now, in this process (small work), or queue it for the worker after commit."""
    if inline:
        run(job.pk)
        job.refresh_from_db()
    else:
        from .tasks import run_job

        transaction.on_commit(lambda: run_job(job.pk))
    return job


def claim(job_id: int) -> Job | None:
    """Take a queued job. Only one caller gets it (a conditional UPDATE); the others get None."""
    now = timezone.now()
    if not Job.objects.filter(pk=job_id, state=State.QUEUED).update(state=State.RUNNING, started_at=now):
        return None
    return Job.objects.select_related("owner").get(pk=job_id)


class Progress:
    """progress(done, total): the row is updated when it can be (outside a transaction); inside the
    import's transaction the row is invisible to other connections (and on SQLite locked), so the
    figures also go to a small file beside the job's files, which the page reads while it runs."""

    def __init__(self, job: Job, stage: str):
        self.job, self.stage = job, stage
        self.path = job.directory / "progress.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, done: int, total: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"done": done, "total": total, "stage": self.stage}))
        os.replace(tmp, self.path)
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job.pk).update(done=done, total=total, stage=self.stage)


def finish(job: Job, state: str, *, message: str = "", result: dict | None = None) -> Job:
    job.state, job.message, job.finished_at = state, message[:5000], timezone.now()
    if result is not None:
        job.result = result
    if state == State.DONE and job.total:
        job.done = job.total
    job.save(
        update_fields=[
            "state",
            "message",
            "finished_at",
            "result",
            "done",
            "total",
            "stage",
            "result_file",
            "error_file",
        ]
    )
    (job.directory / "progress.json").unlink(missing_ok=True)
    return job


def run(job_id: int) -> Job | None:
    """Claim and run one job; the outcome is recorded on the row, errors included."""
    job = claim(job_id)
    if job is None:
        return None
    try:
        runner = RUNNERS[job.kind]
        (import_string(runner) if isinstance(runner, str) else runner)(job)
    except PermissionDenied:
        finish(job, State.FAILED, message=_("You are not allowed to do this."))
    except tabular.FileProblem as exc:
        finish(job, State.FAILED, message=str(exc))
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        finish(job, State.FAILED, message=_("The job stopped with an error: %(e)s") % {"e": exc})
    return job


# ---------------------------------------------------------------- runners


def run_import_job(job: Job) -> None:
    spec = registers.import_spec(job.register)
    if not spec.permitted(job.owner):
        raise PermissionDenied
    dry_run, partial = bool(job.params.get("dry_run")), bool(job.params.get("partial"))
    suffix = ".xlsx" if Path(job.input_name).suffix.lower() in (".xlsx", ".xlsm") else ".csv"
    rejected_name = job_file_path(job, f"rejected{suffix}")
    rejected_path = Path(job.error_file.storage.path(rejected_name))
    job.stage = "check" if dry_run else "import"
    # Clear copies exist only while the run lasts (jobs.files); what stays under JOBS_ROOT is encrypted.
    with (
        files.clear_copy(job.input_file.path, job.input_name) as clear_input,
        files.clear_output(rejected_path) as clear_rejected,
    ):
        outcome = tabular.run_import(
            spec,
            clear_input,
            job.owner,
            filename=job.input_name,
            dry_run=dry_run,
            partial=partial,
            progress=Progress(job, job.stage),
            rejected_path=clear_rejected,
            journal_name=journal_name(job),
        )
        if not outcome.rejected_rows:
            clear_rejected.unlink(missing_ok=True)
    if outcome.rejected_rows:
        job.error_file.name = rejected_name
    job.total = outcome.total
    job.done = outcome.total
    result = files.mask_preview(spec, outcome.as_dict())
    result["headers"] = spec.headers()
    if dry_run:
        message = _("Checked %(total)d rows: %(valid)d valid, %(bad)d with errors.") % {
            "total": outcome.total,
            "valid": outcome.valid,
            "bad": outcome.rejected_rows,
        }
        finish(job, State.DONE, message=message, result=result)
    elif outcome.rejected:
        message = _("%(n)d errors: nothing was imported.") % {"n": outcome.error_count}
        finish(job, State.FAILED, message=message, result=result)
    else:
        message = _("Imported %(n)d rows.") % {"n": outcome.written}
        if outcome.rejected_rows:
            message += " " + _("%(n)d rows were left out (see the rejected rows file).") % {"n": outcome.rejected_rows}
        finish(job, State.DONE, message=message, result=result)
        if outcome.written:
            spec.after_import(job.owner)


def journal_name(job: Job) -> str:
    """The name of a job's undo journal (SQLite imports commit in batches: core.sqlite.journal)."""
    return f"job:{job.token.hex}"


def recover_imports() -> int:
    """Undo the batches of imports whose worker died (core.sqlite.journal.recover) and mark their
    jobs failed; the number of jobs."""
    undone = [name.removeprefix("job:") for name in journal.recover() if name.startswith("job:")]
    if not undone:
        return 0
    return Job.objects.filter(token__in=undone, state=State.RUNNING).update(
        state=State.FAILED,
        finished_at=timezone.now(),
        message=_("The worker stopped while running this import; nothing was imported."),
    )


def run_export_job(job: Job) -> None:
    spec = registers.export_spec(job.register)
    if not spec.permitted(job.owner):
        raise PermissionDenied
    fmt = job.params.get("format", "csv")
    queryset = spec.queryset(job.owner, job.params.get("filters", {}))
    name = job_file_path(job, f"{spec.name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}")
    path = Path(job.result_file.storage.path(name))
    job.stage = "export"
    with files.clear_output(path) as clear:
        rows = tabular.write_export(spec, queryset, clear, progress=Progress(job, "export"))
    job.result_file.name = name
    job.total = job.done = rows
    finish(job, State.DONE, message=_("Exported %(n)d rows.") % {"n": rows}, result={"rows": rows})


RUNNERS = {
    Kind.IMPORT: run_import_job,
    Kind.EXPORT: run_export_job,
    Kind.SCREENING: "wangge.watch.actions.run_screening_job",
}


# ---------------------------------------------------------------- confirm, clean up


class AlreadyConfirmed(Exception):
    pass


@transaction.atomic
def confirm_import(dry_run_job: Job, user, *, partial: bool) -> Job:
    """Turn a checked file into the real import: a new job with a copy of the same input."""
    locked = Job.objects.select_for_update().get(pk=dry_run_job.pk)
    if locked.owner_id != user.pk or locked.kind != Kind.IMPORT or not locked.dry_run or locked.state != State.DONE:
        raise PermissionDenied
    if locked.params.get("confirmed_job"):
        raise AlreadyConfirmed(locked.params["confirmed_job"])
    job = create_job(
        Kind.IMPORT,
        locked.register,
        user,
        params={"dry_run": False, "partial": partial, "checked_job": locked.pk},
        input_name=locked.input_name,
    )
    # The same encrypted bytes (no clear copy on the way).
    job.input_file.name = job_file_path(job, Path(locked.input_file.name).name)
    target = Path(job.input_file.storage.path(job.input_file.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(locked.input_file.path, target)
    job.save(update_fields=["input_file"])
    locked.params = {**locked.params, "confirmed_job": job.pk}
    locked.save(update_fields=["params"])
    return job


def clean_up(now=None) -> dict:
    """Finished jobs older than settings.JOBS_KEEP_DAYS go, with their files; a job left running by a
    stopped worker for longer than settings.JOBS_STALE_HOURS is marked failed."""
    now = now or timezone.now()
    recovered = recover_imports()
    stale = Job.objects.filter(state=State.RUNNING, started_at__lt=now - timedelta(hours=settings.JOBS_STALE_HOURS))
    stale_count = stale.update(
        state=State.FAILED, finished_at=now, message=_("The worker stopped while running this job.")
    )
    old = Job.objects.filter(state__in=FINISHED, finished_at__lt=now - timedelta(days=settings.JOBS_KEEP_DAYS))
    removed = 0
    for job in old.iterator():
        shutil.rmtree(job.directory, ignore_errors=True)
        job.delete()
        removed += 1
    return {"removed": removed, "stale": stale_count + recovered}
