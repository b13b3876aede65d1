"""Which registers can be imported and exported: name → the spec class, by dotted path.

One explicit table, no plugin registry: a register adds its line here when it has a spec.
"""

from django.http import Http404
from django.utils.module_loading import import_string

IMPORTS = {
    "departments": "wangge.accounts.transfer.DepartmentImport",
    "addresses": "wangge.registry.transfer.AddressImport",
    "buildings": "wangge.registry.transfer.BuildingImport",
    "people": "wangge.registry.transfer.PersonImport",
    "places": "wangge.registry.transfer.PlaceImport",
    "watchlist": "wangge.watch.transfer.WatchEntryImport",
}

EXPORTS = {
    "departments": "wangge.accounts.transfer.DepartmentExport",
    "cases": "wangge.cases.transfer.CaseExport",
    "addresses": "wangge.registry.transfer.AddressExport",
    "buildings": "wangge.registry.transfer.BuildingExport",
    "people": "wangge.registry.transfer.PersonExport",
    "places": "wangge.registry.transfer.PlaceExport",
}


def import_spec(name: str):
    """The import spec of a register (an instance); Http404 for an unknown name."""
    if name not in IMPORTS:
        raise Http404(f"no import for {name!r}")
    return import_string(IMPORTS[name])()


def export_spec(name: str):
    if name not in EXPORTS:
        raise Http404(f"no export for {name!r}")
    return import_string(EXPORTS[name])()


def title(name: str, kind: str = "import") -> str:
    """A register's name as users read it (人员, not people); a screening screens the people."""
    path = (EXPORTS if kind == "export" else IMPORTS).get(name) or EXPORTS.get(name)
    return str(import_string(path).title) if path else name
