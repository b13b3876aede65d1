"""The case queue as a spreadsheet (wangge.core.tabular): the rows the user sees on /cases/ with
the same filters, reporters' phones masked."""

from django.utils import timezone
from django.utils.translation import gettext_lazy

from wangge.core import tabular
from wangge.core.tabular import ExportColumn

from . import queries


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class CaseExport(tabular.ExportSpec):
    name = "cases"
    title = gettext_lazy("Cases")
    filters = queries.QUEUE_FILTERS
    columns = [
        ExportColumn("案件编号", lambda c: c.number or ""),
        ExportColumn("状态", lambda c: c.get_status_display()),
        ExportColumn("紧急程度", lambda c: c.get_severity_display()),
        ExportColumn("类别", lambda c: c.category.name if c.category_id else ""),
        ExportColumn("事项", lambda c: c.matter_item.name if c.matter_item_id else ""),
        ExportColumn("描述", lambda c: c.description),
        ExportColumn("地址", lambda c: c.address),
        ExportColumn("区域", lambda c: c.area.name),
        ExportColumn("区域代码", lambda c: c.area.code),
        ExportColumn("来源渠道", lambda c: c.get_channel_display()),
        ExportColumn("上报人", lambda c: c.reporter_name),
        ExportColumn("上报人电话", lambda c: c.reporter_phone, mask="phone"),
        ExportColumn("超期", lambda c: c.is_overdue),
        ExportColumn("上报时间", lambda c: _local(c.created_at)),
        ExportColumn("派遣时限", lambda c: _local(c.dispatch_deadline)),
        ExportColumn("结案时间", lambda c: _local(c.closed_at)),
        ExportColumn("纬度", lambda c: c.lat),
        ExportColumn("经度", lambda c: c.lng),
    ]

    def queryset(self, user, params):
        """The queue's rows for these filters (the queue's default tab: open cases)."""
        status = str(params.get("status", "") or "") or "open"
        cases = queries.filter_cases(queries.case_list(user), status=status, **queries.filter_args(user, params))
        return cases.order_by("-created_at", "-id")
