"""The JSON behind the searchable pickers (web/static/web/picker.js): areas, categories, matter items.

Every endpoint answers {"results": [{"value", "label", "hint", "children", "pick"}], "empty"}:
`value` is what the form field receives (an area code, "part:0305", a matter item's code), `label`
what the user sees, `children` whether it opens (the tree: ?parent=<value>), `pick` false for a
row that only groups others. `?q=` searches names and pinyin (core.pinyin: "ljx" → 垃圾箱),
`?value=` gives the label of a value already in the field. No parameter: the top of the tree.

Areas are the user's jurisdiction only (accounts.scope.restrict); the forms and actions still check
every value they receive, so a typed code outside it is a field error as before.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import JsonResponse
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from wangge.accounts.scope import restrict, scope_for
from wangge.areas.models import Area
from wangge.cases import refs
from wangge.cases.models import CategoryKind
from wangge.core import pinyin

LIMIT = 30


def picker(url_name: str, placeholder, query: str = "") -> dict:
    """A form widget's attributes that make it a searchable picker (web/static/web/picker.js);
    without JS the field stays the plain select or input it is."""
    return {"data-picker": format_lazy("{}{}", reverse_lazy(url_name), query), "data-picker-placeholder": placeholder}


def answer(results, **extra):
    return JsonResponse({"results": results, "empty": _("Nothing found."), "expand": _("Show what it holds"), **extra})


def _row(value, label, hint="", children=False, pick=True, **more):
    return {"value": value, "label": label, "hint": hint, "children": children, "pick": pick, **more}


# --- areas ----------------------------------------------------------------------------------


def _area_rows(queryset):
    rows = queryset.annotate(child_count=Count("children")).order_by("code")
    return [
        _row(a.code, a.name, a.get_level_display(), a.child_count > 0)
        for a in rows.only("code", "name", "level", "path")
    ]


@login_required
def areas(request):
    """The user's areas: the roots of their jurisdiction, an area's children, or a search by name
    and pinyin (with the names of the area's parents as the hint, since grid names repeat)."""
    visible = restrict(Area.objects.all(), request.user)
    get = request.GET
    if get.get("value"):
        return answer(_area_rows(visible.filter(code=get["value"].strip())))
    if get.get("parent"):
        parent = visible.filter(code=get["parent"].strip()).values_list("pk", flat=True).first()
        return answer(_area_rows(visible.filter(parent_id=parent)) if parent else [])
    if get.get("q", "").strip():
        return answer(_search_areas(visible, get["q"]))
    scope = scope_for(request.user)
    if scope.everything:
        return answer(_area_rows(Area.objects.filter(parent=None)))
    codes = [p.rstrip("/").rsplit("/", 1)[-1] for p in scope.visible_area_paths]
    return answer(_area_rows(Area.objects.filter(code__in=codes)))


def _search_areas(visible, query):
    query = query.strip()
    if query.isdigit():  # a code, or its beginning
        visible = visible.filter(code__startswith=query)
    rows = list(visible.order_by("path").values_list("code", "name", "level", "path"))
    names = {path: name for _code, name, _level, path in rows}
    parents = {path[: path.rstrip("/").rfind("/") + 1] for *_r, path in rows}
    levels = dict(Area._meta.get_field("level").choices)
    found = []
    names_of = (lambda r: (r[0],)) if query.isdigit() else (lambda r: (r[1],))
    for code, name, level, path in pinyin.best(query, rows, names=names_of, limit=LIMIT):
        parts = path.rstrip("/").split("/")[:-1]
        ancestors = [names[p] for i in range(len(parts)) if (p := "/".join(parts[: i + 1]) + "/") in names]
        hint = " · ".join(filter(None, [" / ".join(ancestors), str(levels.get(level, ""))]))
        found.append(_row(code, name, hint, path in parents))
    return found


# --- categories and matter items (reference rows, cached per process in cases.refs) ----------

_cached = (None, {})  # (the cases.refs config, its picker rows): swapped whole, so threads see one or the other


def _reference_entries():
    """The taxonomy and matter items as picker rows, built once per version of cases.refs."""
    global _cached
    config = refs.get()
    if _cached[0] is not config:
        by_id = {c.pk: c for c in config.categories.values()}
        kinds = dict(CategoryKind.choices)
        minors, majors = [], []
        for c in config.categories.values():
            parent = by_id.get(c.parent_id)
            if c.parent_id is None:
                majors.append(c)
            elif parent is not None:
                minors.append((c, parent))
        _cached = (
            config,
            {
                "categories": [(c, parent, f"{c.kind}:{c.code}", kinds.get(c.kind, "")) for c, parent in minors],
                "majors": [(c, f"{c.kind}:{c.code}", kinds.get(c.kind, "")) for c in majors],
                "items": sorted(config.matter_items.values(), key=lambda m: m.code),
            },
        )
    return _cached[1]


def categories(request):
    """Minor classes of the taxonomy (what a case's category is); with ?major=1 the major classes
    too can be picked (the queue's filter takes either). Public: the citizen's report form uses it."""
    entries = _reference_entries()
    get = request.GET
    with_majors = get.get("major") == "1"
    value = get.get("value", "").strip()
    if value:
        rows = [_row(v, f"{p.name} / {c.name}", k) for c, p, v, k in entries["categories"] if v == value]
        rows += [_row(v, c.name, k) for c, v, k in entries["majors"] if with_majors and v == value]
        return answer(rows)
    parent = get.get("parent", "").strip()
    if parent:
        kind, _sep, code = parent.partition(":")
        return answer(
            [
                _row(v, c.name, f"{p.name} · {k}")
                for c, p, v, k in entries["categories"]
                if p.kind == kind and p.code == code
            ]
        )
    if get.get("q", "").strip():
        found = pinyin.best(get["q"], entries["categories"], names=lambda e: (e[0].name, e[1].name), limit=LIMIT)
        rows = [_row(v, f"{p.name} / {c.name}", k) for c, p, v, k in found]
        if with_majors:
            majors = pinyin.best(get["q"], entries["majors"], names=lambda e: (e[0].name,), limit=5)
            rows = [_row(v, c.name, k, True) for c, v, k in majors] + rows
        return answer(rows[:LIMIT])
    return answer([_row(v, c.name, k, True, with_majors) for c, v, k in entries["majors"]])


@login_required
def matter_items(request):
    """Matter items (入格事项), searched by name and pinyin; the category's name is the hint."""
    items = _reference_entries()["items"]
    get = request.GET
    value = get.get("value", "").strip()
    if value:
        items = [m for m in items if m.code == value]
    elif get.get("q", "").strip():
        items = pinyin.best(get["q"], items, names=lambda m: (m.name, m.category.name if m.category else ""))
    return answer([_row(m.code, m.name, _category_hint(m)) for m in items[:100]])


def _category_hint(item) -> str:
    """The matter item's category, when it says more than the item's own name."""
    name = item.category.name if item.category else ""
    return name if name != item.name else ""
