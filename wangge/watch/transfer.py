"""Watch list entries from a spreadsheet (wangge.core.tabular): `wangge import watchlist FILE`
or the import page. No export: the lists leave the system only through their own review."""

from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import pii, tabular
from wangge.core.tabular import Column
from wangge.registry.transfer import id_number

from . import actions
from .models import WatchEntry, WatchList


class WatchEntryImport(tabular.ImportSpec):
    name = "watchlist"
    title = gettext_lazy("Watch list entries")
    list_url = reverse_lazy("watch:index")
    batch_size = 1000
    columns = [
        Column("watch_list", "名单", required=True, parse=tabular.text(100), example="重点关注人员",
               note="已建立的名单名称（在管理后台建立）。"),
        Column("name", "姓名", required=True, parse=tabular.text(60), example="张伟"),
        Column("id_number", "身份证号", parse=id_number, example="11010519491231002X",
               note="有号码时按号码精确比对；加密保存。"),
        Column("birth_date", "出生日期", parse=tabular.date, example="1949-12-31",
               note="没有身份证号时，按姓名读音 + 出生日期比对；有号码时由号码得出。"),
        Column("note", "备注", parse=tabular.text(200)),
    ]  # fmt: skip

    def permitted(self, user) -> bool:
        return actions.may_use(user)

    def check(self, rows, user):
        names = {r.values["watch_list"] for r in rows if r.values["watch_list"]}
        lists = {w.name: w for w in WatchList.objects.filter(name__in=names, is_active=True)}
        hashes = {}
        for row in rows:
            if row.values["watch_list"]:
                found = lists.get(row.values["watch_list"])
                if found is None:
                    row.error("watch_list", _("no active watch list named %(n)s") % {"n": row.values["watch_list"]})
                row.values["list_obj"] = found
            number = row.values.get("id_number")
            if number:
                derived = tabular.date(number[6:14])
                if row.values.get("birth_date") and row.values["birth_date"] != derived:
                    row.error(
                        "birth_date", _("does not match the birth date in the ID number (%(d)s)") % {"d": derived}
                    )
                row.values["birth_date"] = derived
                hashes[pii.lookup_hash(number)] = row
            elif not row.values.get("birth_date"):
                row.error("birth_date", _("give the ID number or the birth date"))
        taken = WatchEntry.objects.filter(id_number_hash__in=hashes).values_list("id_number_hash", "watch_list_id")
        for number_hash, list_id in taken:
            row = hashes[number_hash]
            if row.values.get("list_obj") and row.values["list_obj"].pk == list_id:
                row.error("id_number", _("already on this list"))

    def write(self, rows, user):
        by_list = {}
        for row in rows:
            by_list.setdefault(row.values["list_obj"], []).append(row.values)
        for watch_list, values in by_list.items():
            actions.add_entries(watch_list, values, acting_user=user)
        return {"created": len(rows)}

    def after_import(self, user):
        actions.queue_screening(user)
