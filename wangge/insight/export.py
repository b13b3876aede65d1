"""XLSX export of the dashboards' tables (small tables: written in the request with openpyxl; the
overdue cases, when many, by the jobs app's case export in the background)."""

import io

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from . import figures


def _rate_columns():
    return [
        (_("Reported"), "total"),
        (_("Rejected"), "rejected"),
        (_("Merged"), "merged"),
        (pgettext("cases", "Open"), "open"),
        (pgettext("cases", "Finished"), "finished"),
        (_("Closure rate %"), "closure_rate"),
        (_("On-time rate %"), "on_time_rate"),
        (_("Overdue"), "overdue"),
        (_("Satisfaction"), "satisfaction"),
        (_("Handled on site %"), "on_site_share"),
    ]


def _tables():
    return {
        "areas": (
            _("Areas"),
            lambda a, p: figures.by_child_area(a, p),
            [(_("Rank"), "rank"), (_("Code"), "code"), (_("Area"), "name"), *_rate_columns()],
        ),
        "departments": (
            _("Departments"),
            lambda a, p: figures.by_department(a, p),
            [
                (_("Rank"), "rank"),
                (_("Code"), "code"),
                (_("Department"), "name"),
                (_("Assigned"), "assigned"),
                (_("Counted"), "counted"),
                (_("In hand"), "active"),
                (_("Reported back"), "done"),
                (_("Returned"), "returned"),
                (_("Returns accepted"), "returns_accepted"),
                (_("Closure rate %"), "closure_rate"),
                (_("On-time rate %"), "on_time_rate"),
                (_("Overdue"), "overdue"),
            ],
        ),
        "channels": (_("Channels"), figures.by_channel, [(_("Channel"), "name"), (_("Reported"), "n")]),
        "categories": (
            _("Top categories"),
            figures.top_categories,
            [(_("Code"), "code"), (_("Category"), "name"), (_("Reported"), "n")],
        ),
        "daily": (
            _("Daily"),
            figures.daily,
            [
                (_("Day"), "day"),
                (_("Reported"), "total"),
                (pgettext("cases", "Finished"), "finished"),
                (_("Overdue"), "overdue"),
            ],
        ),
        "overdue": (
            _("Overdue cases"),
            lambda a, p: figures.overdue_cases(a, limit=None),
            [
                (_("Number"), "number"),
                (_("Status"), "status"),
                (_("Category"), "category__name"),
                (_("Area"), "area__name"),
                (_("Reported at"), "created_at"),
                (_("Description"), "description"),
            ],
        ),
    }


TABLES = ("areas", "departments", "channels", "categories", "daily", "overdue")


def workbook(table: str, area, period) -> bytes:
    title, rows_of, columns = _tables()[table]
    book = Workbook()
    sheet = book.active
    sheet.title = str(title)[:31]
    sheet.append([f"{area.name} ({area.code})", f"{period.start} — {period.end}"])
    sheet.append([str(label) for label, _key in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows_of(area, period):
        sheet.append([row.get(key) for _label, key in columns])
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def overdue_job(user, area):
    """The open overdue cases of the area as a background case export (the jobs app): the same
    rows the case queue shows for status=open, overdue=1 under the area, in the user's scope."""
    from wangge.jobs import actions as jobs
    from wangge.jobs.models import Kind

    filters = {"status": "open", "overdue": "1", "area": area.code}
    job = jobs.create_job(Kind.EXPORT, "cases", user, params={"format": "xlsx", "filters": filters})
    return jobs.start(job, inline=False)
