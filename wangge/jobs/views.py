"""Pages of the jobs app: my jobs, a job's page with its progress bar (htmx-polled) and files,
the import page of each register (template, dry run, confirm) and the export of a register."""

import itertools
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from wangge.core import tabular

from . import actions, files, registers
from .forms import UploadForm
from .models import Job, Kind, State


def _job_for(request, pk) -> Job:
    """The job, if the user owns it (or is staff); 404 otherwise, as for anything not theirs."""
    job = get_object_or_404(Job.objects.select_related("owner"), pk=pk)
    if not job.visible_to(request.user):
        raise Http404
    return job


@login_required
def job_list(request):
    jobs = Job.objects.filter(owner=request.user)[:200]
    return render(request, "jobs/list.html", {"jobs": jobs, "keep_days": settings.JOBS_KEEP_DAYS})


STAGES = {
    "check": gettext_lazy("Checking"),
    "import": gettext_lazy("Importing"),
    "export": gettext_lazy("Exporting"),
    "screen": gettext_lazy("Screening"),
}


def _job_context(job: Job) -> dict:
    result = job.result or {}
    spec = None
    if job.kind == Kind.IMPORT:
        try:
            spec = registers.import_spec(job.register)
        except Http404:
            spec = None
    done, total, stage = job.live_progress()
    return {
        "job": job,
        "result": result,
        "done": done,
        "total": total,
        "stage": STAGES.get(stage, stage),
        "spec": spec,
        "confirmed_job": job.params.get("confirmed_job"),
    }


@login_required
def job_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "jobs/detail.html", _job_context(job))


@login_required
def job_status(request, pk):
    """The progress fragment, polled by the page while the job runs; a finished job reloads the page."""
    job = _job_for(request, pk)
    response = render(request, "jobs/_progress.html", _job_context(job))
    if job.is_finished:
        response["HX-Refresh"] = "true"
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = {"result": "result_file", "errors": "error_file", "input": "input_file"}


OWNER_ONLY = {"errors", "input"}  # the user's own upload, full ID numbers included: never staff


@login_required
def job_download(request, pk, which):
    """A job's file, decrypted as it streams (jobs.files): the export for its owner or staff, the
    uploaded file and its rejected rows for the owner only."""
    job = _job_for(request, pk)
    if which not in FILES or (which in OWNER_ONLY and job.owner_id != request.user.pk):
        raise Http404
    file = getattr(job, FILES[which])
    if not file or not Path(file.path).exists():
        raise Http404
    if which == "input":
        name = job.input_name
    elif which == "errors":
        name = f"{Path(job.input_name).stem}-错误行{Path(file.name).suffix}"
    else:
        name = Path(file.name).name
    content_type = XLSX_TYPE if name.lower().endswith((".xlsx", ".xlsm")) else "text/csv; charset=utf-8"
    chunks = files.read_decrypted(file.path)
    try:
        first = next(chunks, b"")  # a file that does not decrypt fails here, not halfway through
    except files.CorruptFile:
        raise Http404 from None
    response = StreamingHttpResponse(itertools.chain([first], chunks), content_type=content_type)
    response["Content-Disposition"] = _attachment(name)
    return response


@login_required
@require_POST
def job_confirm(request, pk):
    """Import a checked file for real (the owner only)."""
    checked = _job_for(request, pk)
    try:
        job = actions.confirm_import(checked, request.user, partial=request.POST.get("partial") == "1")
    except PermissionDenied:
        raise Http404 from None
    except actions.AlreadyConfirmed as exc:
        messages.info(request, _("This file has already been imported."))
        return redirect("jobs:detail", pk=exc.args[0])
    inline = (checked.result or {}).get("total", 0) <= settings.IMPORT_SYNC_MAX_ROWS
    actions.start(job, inline=inline)
    return redirect("jobs:detail", pk=job.pk)


# ---------------------------------------------------------------- imports


def _import_spec(request, register):
    spec = registers.import_spec(register)
    if not spec.permitted(request.user):
        raise PermissionDenied
    return spec


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request, register):
    """Upload a file: it is checked first (dry run: preview and every row error), then confirmed."""
    spec = _import_spec(request, register)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = actions.create_job(
                Kind.IMPORT,
                spec.name,
                request.user,
                params={"dry_run": True, "partial": form.cleaned_data["partial"]},
                upload=upload,
                input_name=upload.name,
            )
            try:
                with files.clear_copy(job.input_file.path, job.input_name) as clear:
                    table = tabular.Table(clear, job.input_name)
                    rows = table.estimated_rows
                    table.close()
            except tabular.FileProblem as exc:
                actions.finish(job, State.FAILED, message=str(exc))
                form.add_error("file", str(exc))
                status = 400
            else:
                actions.start(job, inline=rows <= settings.IMPORT_SYNC_MAX_ROWS)
                return redirect("jobs:detail", pk=job.pk)
        else:
            status = 400
    recent = Job.objects.filter(owner=request.user, kind=Kind.IMPORT, register=spec.name)[:10]
    return render(request, "jobs/import.html", {"spec": spec, "form": form, "recent": recent}, status=status)


@login_required
def import_template(request, register, fmt):
    spec = _import_spec(request, register)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if fmt == "xlsx":
        response = HttpResponse(tabular.template_xlsx(spec), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(tabular.template_csv(spec), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _attachment(f"{spec.title}导入模板.{fmt}")
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"


# ---------------------------------------------------------------- exports


@login_required
def export(request, register):
    """The register's rows the user may see, with the page's filters: streamed when small, a
    background job with a progress bar and a download link when large."""
    spec = registers.export_spec(register)
    if not spec.permitted(request.user):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        fmt = "csv"
    filters = {f: request.GET[f] for f in spec.filters if request.GET.get(f)}
    queryset = spec.queryset(request.user, filters)
    if queryset.count() > settings.EXPORT_SYNC_MAX_ROWS:
        job = actions.create_job(Kind.EXPORT, spec.name, request.user, params={"format": fmt, "filters": filters})
        actions.start(job, inline=False)
        messages.info(request, _("The export is large: it is being prepared in the background."))
        return redirect("jobs:detail", pk=job.pk)
    filename = f"{spec.title}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(tabular.csv_stream(spec, queryset), content_type="text/csv; charset=utf-8")
    else:
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            tabular.write_export(spec, queryset, tmp.name)
            data = Path(tmp.name).read_bytes()
        response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = _attachment(filename)
    return response
