"""Departments in and out of spreadsheets (wangge.core.tabular): admins import the city's
departments (入格部门) from Excel, and export them."""

from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.areas.models import Area
from wangge.core import tabular
from wangge.core.tabular import Column, ExportColumn

from . import actions
from .models import Department, DepartmentLevel
from .scope import is_admin, restrict, scope_for


def _code(value: str) -> str:
    if not value.replace("_", "").replace("-", "").isalnum() or not value.isascii():
        raise tabular.CellError(_("letters, digits, - and _ only"))
    return value


LEVEL_SYNONYMS = {"市级": "city", "镇": "town", "街道": "town", "镇街": "town", "镇级": "town"}


class DepartmentImport(tabular.ImportSpec):
    name = "departments"
    title = gettext_lazy("Departments")
    list_url = reverse_lazy("admin:accounts_department_changelist")
    batch_size = 1000
    columns = [
        Column("code", "部门代码", required=True, unique=True, parse=tabular.text(30), aliases=("编码",),
               example="fire", note="唯一代码（字母、数字、-、_）；已有的代码会被更新。"),
        Column("name", "部门名称", required=True, parse=tabular.text(100), aliases=("名称",),
               example="消防救援支队", note="部门全称。"),
        Column("area", "所属区域代码", required=True, aliases=("区域代码", "area_code"), example="441900",
               note="部门服务的区域（市或镇街）的区划代码，须在您的管辖范围内。"),
        Column("level", "层级", parse=tabular.choice(DepartmentLevel.choices, LEVEL_SYNONYMS), example="市",
               note="市 或 镇（city / town）；不填为市。"),
        Column("is_active", "启用", parse=tabular.boolean, aliases=("active",), example="是",
               note="是 / 否；不填为是。"),
    ]  # fmt: skip

    def permitted(self, user) -> bool:
        return is_admin(user)

    def check(self, rows, user):
        codes = {r.values["area"] for r in rows if r.values["area"]}
        areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
        scope = scope_for(user)
        for row in rows:
            area = areas.get(row.values["area"])
            if not row.values["area"]:
                continue
            if area is None:
                row.error("area", _("no area with code %(c)s") % {"c": row.values["area"]})
            elif not scope.covers_path(area.path):
                row.error("area", _("%(a)s is outside your jurisdiction") % {"a": area.name})
            else:
                row.values["area"] = area

    def write(self, rows, user) -> dict:
        return actions.save_departments(
            [
                {
                    "code": r.values["code"],
                    "name": r.values["name"],
                    "area": r.values["area"],
                    "level": r.values["level"] or DepartmentLevel.CITY,
                    "is_active": True if r.values["is_active"] is None else r.values["is_active"],
                }
                for r in rows
            ],
            acting_user=user,
        )


class DepartmentExport(tabular.ExportSpec):
    name = "departments"
    title = gettext_lazy("Departments")
    columns = [
        ExportColumn("部门代码", lambda d: d.code),
        ExportColumn("部门名称", lambda d: d.name),
        ExportColumn("所属区域代码", lambda d: d.area.code),
        ExportColumn("层级", lambda d: d.get_level_display()),
        ExportColumn("启用", lambda d: d.is_active),
    ]

    def permitted(self, user) -> bool:
        return is_admin(user)

    def queryset(self, user, params):
        return restrict(Department.objects.select_related("area"), user, "area__path").order_by("code")
