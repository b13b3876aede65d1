"""The registers in and out of spreadsheets (wangge.core.tabular): standard addresses, buildings,
people and places. Every imported row goes through the register's action (save_building,
register_person, save_place; addresses through the bulk action AddressBulk), so the same rules,
jurisdiction checks, encryption and change records hold as for a form; the dry run writes through
them too and rolls back (addresses: checked in full without writing), so what it reports is exactly
what the import will do. Exports carry only masked personal data."""

import contextlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import pii, tabular
from wangge.core.imports import RowError
from wangge.core.tabular import Column, ExportColumn
from wangge.privacy import search, shown

from . import actions, queries
from .models import (
    BuildingUse,
    LicenceStatus,
    Person,
    PersonType,
    Place,
    PlaceType,
    Tag,
    TagKind,
)
from .validators import parse_id_number, validate_credit_code

AREA_HEADERS = ("区域", "区域名称", "所属网格")  # informative columns of an export, ignored on import


# --- parsers -----------------------------------------------------------------------------------


def _validated(check):
    """A parser from a validator that raises ValidationError: its message becomes the cell's reason."""

    def parse(value: str):
        try:
            return check(value)
        except ValidationError as exc:
            raise tabular.CellError(" ".join(exc.messages)) from None

    return parse


def phone(value: str) -> str | None:
    """A phone; a masked one (from an export, 139****5678) means "keep the stored number"."""
    if "*" in value:
        return None
    number = pii.normalize_phone(value)
    if not pii.is_valid_phone(number):
        raise tabular.CellError(_("%(v)s is not a valid phone number") % {"v": value})
    return number


def id_number(value: str) -> str:
    return _validated(lambda v: parse_id_number(v).number)(value)


def code_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("，", ",").replace("、", ",").replace(";", ",").split(",") if part]


def _config(model, rows, key, user_label, **filters):
    """Resolve a configuration list column given by code or by name (用途, 类型…) to the code."""
    items = list(model.objects.filter(is_active=True, **filters))
    by_text = {i.code.lower(): i.code for i in items} | {i.name.lower(): i.code for i in items}
    for row in rows:
        value = row.values.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        found = [by_text.get(str(v).lower()) for v in values]
        missing = [v for v, f in zip(values, found, strict=True) if f is None]
        if missing:
            names = "、".join(i.name for i in items)
            row.error(key, _("unknown %(what)s %(v)s (one of: %(names)s)") % {
                "what": user_label, "v": "、".join(missing), "names": names})  # fmt: skip
        else:
            row.values[key] = found if isinstance(value, list) else found[0]


def _apply(row, action, fields: dict[str, str] | None = None) -> bool:
    """Run the register's action for one row; its refusal becomes the row's errors (per column)."""
    fields = fields or {}
    keys = {c.key for c in row.spec.columns}
    try:
        action()
        return True
    except actions.DuplicatePerson as exc:
        where = exc.existing
        for field, messages in exc.message_dict.items():
            reason = " ".join(messages) + (f" (#{where.pk})" if where is not None else "")
            row.error(fields.get(field, field) if fields.get(field, field) in keys else "", reason)
    except ValidationError as exc:
        for field, messages in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
            key = fields.get(field, field)
            if key in keys:
                row.error(key, " ".join(messages))
            else:
                row.errors.append(RowError(row.file, row.line, " ".join(messages), ""))
    except (PermissionDenied, actions.StaleVersion) as exc:
        row.errors.append(RowError(row.file, row.line, str(exc) or _("not allowed"), ""))
    return False


def _data(row, keys) -> dict:
    """The action's input: the row's values, leaving out blank optional ones (and "keep" phones)."""
    return {k: row.values[k] for k in keys if row.values.get(k) not in (None, "")}


class RegisterImport(tabular.ImportSpec):
    dry_run_writes = True
    batch_size = 200
    ignored_headers = AREA_HEADERS

    def permitted(self, user) -> bool:
        return actions.may_edit(user)


# --- standard addresses ------------------------------------------------------------------------


ADDRESS_COLUMNS = [
    Column("code", "地址编码", unique=True, parse=tabular.text(40), example="441900122002001A00001",
           note="唯一编码；不填则自动生成。已有的编码：更新该地址。"),
    Column("town", "镇街", parse=tabular.text(50), example="厚街镇"),
    Column("community", "村社区", parse=tabular.text(50), example="竹溪社区"),
    Column("road", "路街巷", parse=tabular.text(80), example="莞太路"),
    Column("number", "门牌号", parse=tabular.text(30), example="12号"),
    Column("building_no", "楼栋", parse=tabular.text(30), example="A栋"),
    Column("unit", "单元", parse=tabular.text(30), example="1单元"),
    Column("room", "房号", parse=tabular.text(30), example="301"),
    Column("full_text", "完整地址", parse=tabular.text(300), example="厚街镇竹溪社区莞太路12号A栋1单元301",
           note="不填则由各部分拼成。"),
    Column("lat", "纬度", required=True, parse=tabular.decimal_number(-90, 90), example="22.9401",
           note="WGS-84 纬度；所属网格按坐标自动确定，须在您的管辖范围内。"),
    Column("lng", "经度", required=True, parse=tabular.decimal_number(-180, 180), example="113.6702",
           note="WGS-84 经度。"),
]  # fmt: skip


class AddressImport(RegisterImport):
    """Through the bulk action (actions.AddressBulk): a batch of 10,000 rows is checked in memory
    (points located at once, codes looked up in one query), new addresses are inserted with one
    statement and one summary change record per batch; its check is complete, so the dry run
    writes nothing."""

    name = "addresses"
    title = gettext_lazy("Standard addresses")
    list_url = reverse_lazy("registry:address_list")
    columns = ADDRESS_COLUMNS
    batch_size = 10_000  # locate_many takes its raster path from 10,000 points on
    dry_run_writes = False

    def begin(self, user, *, filename, dry_run):
        self._bulk = actions.AddressBulk(user, file_name=filename)
        if not dry_run:
            self._bulk.__enter__()

    def end(self):
        self._bulk.__exit__(None, None, None)

    def check(self, rows, user):
        good = [r for r in rows if r.ok]
        for row, errors in zip(good, self._bulk.check([r.values for r in good]), strict=True):
            for field, reason in errors.items():
                row.error(field, reason)

    def write(self, rows, user):
        return self._bulk.write([r.values for r in rows])


def _local(value):
    if isinstance(value, int):  # a year (wangge.privacy.shown.birth_annotation)
        return str(value)
    return value.isoformat() if value else ""


class AddressExport(tabular.ExportSpec):
    name = "addresses"
    title = gettext_lazy("Standard addresses")
    filters = ("q",)
    columns = [
        *(ExportColumn(c.header, (lambda key: lambda a: getattr(a, key))(c.key)) for c in ADDRESS_COLUMNS),
        ExportColumn("区域", lambda a: a.area.name),
    ]

    def queryset(self, user, params):
        return queries.search_addresses(queries.addresses(user), params.get("q", "")).order_by("code")


# --- buildings ---------------------------------------------------------------------------------


BUILDING_COLUMNS = [
    Column("code", "建筑编码", unique=True, parse=tabular.text(40), example="441900122002001B00001",
           note="唯一编码；不填则自动生成。已有的编码：更新该建筑。"),
    Column("name", "建筑名称", required=True, parse=tabular.text(100), example="竹溪新村12号楼"),
    Column("address", "标准地址编码", required=True, parse=tabular.text(40), example="441900122002001A00001",
           note="已登记的标准地址的编码（坐标与网格取自该地址）。"),
    Column("use", "用途", required=True, example="出租屋",
           note="住宅、出租屋、自建房、厂房、仓库、商铺、商住混合…（名称或代码）。"),
    Column("floors", "层数", required=True, parse=tabular.integer(1, 200), example="6"),
    Column("risk_class", "风险等级", parse=tabular.integer(1, 3), example="2", note="1、2 或 3（3 最高）；不填为 1。"),
    Column("contact_name", "业主/管理人", parse=tabular.text(50), example="李四"),
    Column("contact_phone", "联系电话", parse=phone, example="13800001234",
           note="手机或带区号的座机；加密保存。导出文件中的遮盖号码（如 138****1234）表示保留原号码。"),
]  # fmt: skip


class BuildingImport(RegisterImport):
    name = "buildings"
    title = gettext_lazy("Buildings")
    list_url = reverse_lazy("registry:building_list")
    columns = BUILDING_COLUMNS

    def check(self, rows, user):
        _config(BuildingUse, rows, "use", _("use"))
        codes = [r.values["code"] for r in rows if r.values.get("code")]
        self._existing = {b.code: b for b in queries.buildings(user).filter(code__in=codes)}

    def write(self, rows, user):
        counts = {"created": 0, "updated": 0}
        keys = [c.key for c in self.columns]
        for row in rows:
            existing = self._existing.get(row.values.get("code"))
            data = _data(row, keys)
            if existing is None and "risk_class" not in data:
                data["risk_class"] = 1
            if _apply(row, lambda d=data, e=existing: actions.save_building(user, d, building=e)):
                counts["updated" if existing else "created"] += 1
        return counts


class BuildingExport(tabular.ExportSpec):
    name = "buildings"
    title = gettext_lazy("Buildings")
    filters = ("q", "use", "risk_class", "area")
    columns = [
        ExportColumn("建筑编码", lambda b: b.code),
        ExportColumn("建筑名称", lambda b: b.name),
        ExportColumn("标准地址编码", lambda b: b.address.code),
        ExportColumn("用途", lambda b: b.use.name),
        ExportColumn("层数", lambda b: b.floors),
        ExportColumn("风险等级", lambda b: b.risk_class),
        ExportColumn("业主/管理人", lambda b: b.contact_name),
        ExportColumn("联系电话", lambda b: b.contact_phone_masked),  # stored masked: never decrypted here
        ExportColumn("区域", lambda b: b.area.name),
    ]

    def queryset(self, user, params):
        qs = queries.search_text_fields(
            queries.buildings(user), params.get("q", ""), "code", "name", "address__full_text"
        )
        if params.get("use"):
            qs = qs.filter(use__code=params["use"])
        if str(params.get("risk_class", "")).isdigit():
            qs = qs.filter(risk_class=int(params["risk_class"]))
        if params.get("area"):
            qs = qs.filter(area_path__contains=f"/{params['area']}/")
        return qs.order_by("code")


# --- people ------------------------------------------------------------------------------------

PERSON_TYPE_SYNONYMS = {"户籍": "registered", "户籍人口": "registered", "常住": "registered", "流动": "floating",
                        "流动人口": "floating", "境外": "overseas", "境外人员": "overseas"}  # fmt: skip

PERSON_COLUMNS = [
    Column("name", "姓名", required=True, parse=tabular.text(60), example="王五"),
    Column("person_type", "人员类型", required=True, parse=tabular.choice(PersonType.choices, PERSON_TYPE_SYNONYMS),
           example="流动人口", note="户籍人口、流动人口 或 境外人员。"),
    Column("id_number", "身份证号", unique=True, parse=id_number, example="11010519491231002X",
           note="18 位（校验位按 GB 11643 检查）；出生日期与性别由号码得出。加密保存；"
                "文件内或库中重复的号码逐行报错。"),
    Column("passport", "护照号", unique=True, parse=tabular.text(20), note="仅境外人员；加密保存。"),
    Column("nationality", "国籍", parse=tabular.text(40)),
    Column("phone", "手机号", parse=phone, example="13800001234", note="加密保存。"),
    Column("tags", "标签", parse=code_list, example="独居老人",
           note="多个用逗号分隔：独居老人、残疾人…（名称或代码）。"),
    Column("building", "建筑编码", parse=tabular.text(40), example="441900122002001B00001",
           note="现住址：建筑编码 + 房号；或只填区域代码（无登记住所的人员）。"),
    Column("room", "房号", parse=tabular.text(41), example="301", note="房号，或 单元-房号（如 1-301）。"),
    Column("area_code", "区域代码", parse=tabular.text(15), example="441900122002001"),
    Column("moved_in", "入住日期", parse=tabular.date, example="2026-01-15", note="YYYY-MM-DD；不填为今天。"),
]  # fmt: skip


class PersonImport(RegisterImport):
    name = "people"
    title = gettext_lazy("People")
    list_url = reverse_lazy("registry:person_list")
    columns = PERSON_COLUMNS

    def begin(self, user, *, filename, dry_run):
        # Numbers registered out of the importer's jurisdiction are reported without a name, counted
        # against the hourly import budget and logged as one access per file (in end()).
        self._user, self._filename = user, filename
        self._remaining, self._retry_after = search.import_duplicates_budget(user)
        self._elsewhere: dict[str, list[Person]] = {"id_number": [], "passport": []}
        # Access rows wait until end(): a dry run's writes (and a refused file) are rolled back.
        self._log = contextlib.ExitStack()
        self._log.enter_context(search.deferred_access_log())

    def end(self):
        for key, found in self._elsewhere.items():
            search.import_duplicates_found(self._user, Person, key, found, filename=self._filename)
        self._log.close()

    def check(self, rows, user):
        _config(Tag, rows, "tags", _("tag"), kind=TagKind.PERSON)
        # Numbers already in the register: reported per row (named only if the user may see them).
        elsewhere = []
        for key, column in (("id_number", "id_number_hash"), ("passport", "passport_hash")):
            hashes = {pii.lookup_hash(r.values[key]): r for r in rows if r.values.get(key)}
            if not hashes:
                continue
            visible = set(queries.people(user).filter(**{f"{column}__in": hashes}).values_list("pk", flat=True))
            for person in Person.objects.filter(**{f"{column}__in": hashes}).only("pk", "name", column):
                row = hashes[getattr(person, column)]
                if person.pk in visible:
                    row.error(key, _("already registered: %(name)s (#%(pk)s)") % {"name": person.name, "pk": person.pk})
                else:
                    elsewhere.append((key, row, person))
        if len(elsewhere) > self._remaining:
            # Which rows are registered elsewhere is not told once the budget is spent: the whole
            # batch is refused alike (and nothing more is counted).
            message = _("too many numbers registered elsewhere in the last hour: try again in %(m)d minutes") % {
                "m": max(1, self._retry_after // 60)}  # fmt: skip
            for row in rows:
                row.error("", message)
            self._remaining = 0
            return
        self._remaining -= len(elsewhere)
        for key, row, person in elsewhere:
            row.error(key, _("already registered elsewhere"))
            self._elsewhere[key].append(person)
        for row in rows:
            building, room = row.values.get("building"), row.values.get("room")
            if building or room:
                if not (building and room):
                    row.error("room" if building else "building", _("give both the building code and the room"))
                    continue
                found = queries.find_room(user, building, room)
                if found is None:
                    row.error(
                        "room", _("no room %(r)s in building %(b)s in your jurisdiction") % {"r": room, "b": building}
                    )
                else:
                    row.values["room_id"] = found.pk
            elif not row.values.get("area_code"):
                row.error("building", _("give the residence (building code and room) or the area code"))

    def write(self, rows, user):
        created = 0
        keys = ["name", "person_type", "id_number", "passport", "nationality", "phone", "tags", "area_code", "moved_in"]
        for row in rows:
            data = _data(row, keys)
            if row.values.get("room_id"):
                data["room"] = row.values["room_id"]
                data.pop("area_code", None)
            data["source"] = "import"
            if _apply(row, lambda d=data: actions.register_person(user, d, budgeted=False), {"room": "room"}):
                created += 1
        return {"created": created}

    def after_import(self, user):
        """New people are screened against the active watch lists, in the worker."""
        from wangge.watch.models import WatchList

        if WatchList.objects.filter(is_active=True).exists():
            from wangge.watch.actions import queue_screening

            queue_screening(user)


class PersonExport(tabular.ExportSpec):
    name = "people"
    title = gettext_lazy("People")
    filters = ("q", "search", "type", "tag")  # search: a stored exact search's token, never a number
    columns = [
        ExportColumn("姓名", lambda p: p.name),
        ExportColumn("人员类型", lambda p: p.get_person_type_display()),
        # Stored masked beside the encrypted number: an export never decrypts personal data.
        ExportColumn("身份证号", lambda p: p.id_number_masked),
        ExportColumn("护照号", lambda p: p.passport_masked),
        ExportColumn("国籍", lambda p: p.nationality),
        # The date, or its year only without the permission (wangge.privacy.shown, in queryset()).
        ExportColumn("出生日期", lambda p: _local(p.birth_shown)),
        ExportColumn("性别", lambda p: p.get_sex_display() if p.sex else ""),
        ExportColumn("手机号", lambda p: p.phone_masked),
        ExportColumn("标签", lambda p: "、".join(t.name for t in p.tags.all())),
        ExportColumn("建筑编码", lambda p: p.residence.building.code if p.residence_id else ""),
        ExportColumn("房号", lambda p: (f"{p.residence.unit}-" if p.residence.unit else "") + p.residence.number
                     if p.residence_id else ""),
        ExportColumn("区域代码", lambda p: p.area.code),
    ]  # fmt: skip

    def queryset(self, user, params):
        if params.get("search"):
            from . import exact

            qs = exact.stored_people(user, params["search"]).prefetch_related("tags")
        else:
            qs = queries.search_people(queries.people(user).prefetch_related("tags"), params.get("q", ""))
        qs = qs.annotate(birth_shown=shown.birth_annotation(user))
        if params.get("type"):
            qs = qs.filter(person_type=params["type"])
        if params.get("tag"):
            qs = qs.filter(tags__code=params["tag"])
        return qs.order_by("name", "id")


# --- places ------------------------------------------------------------------------------------

LICENCE_SYNONYMS = {"有效": "valid", "持证": "valid", "已办证": "valid", "办理中": "pending", "申请中": "pending",
                    "过期": "expired", "已过期": "expired", "吊销": "revoked", "已吊销": "revoked", "无证": "none",
                    "无照": "none"}  # fmt: skip

PLACE_COLUMNS = [
    Column("name", "名称", required=True, parse=tabular.text(100), example="好味小食店"),
    Column("place_type", "类型", required=True, example="餐饮店",
           note="小商店、小作坊、小娱乐场所、餐饮店、企业…（名称或代码）。"),
    Column("credit_code", "统一社会信用代码", unique=True, parse=_validated(validate_credit_code),
           example="91441900MA4UJ8LD0F", note="18 位，校验位按 GB 32100 检查；无照经营可不填。"),
    Column("licence_status", "证照状态", parse=tabular.choice(LicenceStatus.choices, LICENCE_SYNONYMS), example="有效",
           note="有效、办理中、过期、吊销、无证；不填为无证。"),
    Column("licence_expires", "证照有效期至", parse=tabular.date, example="2028-12-31"),
    Column("address", "标准地址编码", required=True, parse=tabular.text(40), example="441900122002001A00001"),
    Column("building", "建筑编码", parse=tabular.text(40)),
    Column("contact_name", "联系人", parse=tabular.text(50), example="赵六"),
    Column("contact_phone", "联系电话", parse=phone, example="13800001234", note="加密保存。"),
    Column("risk_tags", "风险标签", parse=code_list, example="使用燃气", note="多个用逗号分隔（名称或代码）。"),
]  # fmt: skip


class PlaceImport(RegisterImport):
    name = "places"
    title = gettext_lazy("Places and market entities")
    list_url = reverse_lazy("registry:place_list")
    columns = PLACE_COLUMNS

    def check(self, rows, user):
        _config(PlaceType, rows, "place_type", _("type"))
        _config(Tag, rows, "risk_tags", _("tag"), kind=TagKind.PLACE)
        codes = {r.values["credit_code"]: r for r in rows if r.values.get("credit_code")}
        for place in Place.objects.filter(credit_code__in=codes).only("credit_code", "name"):
            codes[place.credit_code].error("credit_code", _("already registered: %(n)s") % {"n": place.name})

    def write(self, rows, user):
        created = 0
        keys = [c.key for c in self.columns]
        for row in rows:
            data = _data(row, keys)
            if _apply(row, lambda d=data: actions.save_place(user, d)):
                created += 1
        return {"created": created}


class PlaceExport(tabular.ExportSpec):
    name = "places"
    title = gettext_lazy("Places and market entities")
    filters = ("q", "type", "three_small", "licence", "tag")
    columns = [
        ExportColumn("名称", lambda p: p.name),
        ExportColumn("类型", lambda p: p.place_type.name),
        ExportColumn("统一社会信用代码", lambda p: p.credit_code or ""),
        ExportColumn("证照状态", lambda p: p.get_licence_status_display()),
        ExportColumn("证照有效期至", lambda p: _local(p.licence_expires)),
        ExportColumn("标准地址编码", lambda p: p.address.code),
        ExportColumn("建筑编码", lambda p: p.building.code if p.building_id else ""),
        ExportColumn("联系人", lambda p: p.contact_name),
        ExportColumn("联系电话", lambda p: p.contact_phone_masked),
        ExportColumn("风险标签", lambda p: "、".join(t.name for t in p.risk_tags.all())),
        ExportColumn("区域", lambda p: p.area.name),
    ]

    def queryset(self, user, params):
        qs = queries.places(user).prefetch_related("risk_tags")
        qs = queries.search_text_fields(qs, params.get("q", ""), "name", "credit_code", "address__full_text")
        if params.get("type"):
            qs = qs.filter(place_type__code=params["type"])
        if params.get("three_small"):
            qs = qs.filter(place_type__is_three_small=True)
        if params.get("licence"):
            qs = qs.filter(licence_status=params["licence"])
        if params.get("tag"):
            qs = qs.filter(risk_tags__code=params["tag"])
        return qs.order_by("name", "id")
