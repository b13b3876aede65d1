"""The model that serves suggestions in this process: the active version, loaded once and
reloaded when another version becomes active (checked at most every few seconds, like every
reference cache). A version that fails to load is skipped for the newest earlier one that loads,
and the administrators are told; with none, the shipped set is trained in memory."""

import logging
import threading

from wangge.core import refcache

from .textmodel import TextModel

log = logging.getLogger(__name__)
CACHE_NAME = "routing.model"


class Serving:
    def __init__(self, model: TextModel, version: int | None):
        self.model, self.version = model, version


_fallback_lock = threading.Lock()
_fallback: Serving | None = None


def _load() -> Serving:
    from .models import ModelStatus, RoutingModel

    candidates = RoutingModel.objects.filter(status__in=[ModelStatus.ACTIVE, ModelStatus.READY]).exclude(artifact=None)
    # The active one first; then the newest ready ones (what a rollback would pick).
    for record in sorted(candidates.only("id", "version", "status"), key=lambda r: (r.status != "active", -r.version)):
        try:
            blob = RoutingModel.objects.filter(pk=record.pk).values_list("artifact", flat=True).get()
            model = TextModel.loads(blob)
        except Exception as error:  # noqa: BLE001 — any broken artifact: keep serving another
            log.exception("routing model v%s does not load", record.version)
            _report_broken(record, error)
            continue
        return Serving(model, record.version)
    from .actions import bootstrap

    try:
        record = bootstrap()
    except Exception:  # noqa: BLE001 — e.g. a read-only database: serve from memory
        log.exception("could not store the first routing model")
        record = None
    if record is not None:
        return Serving(training_model(), record.version)
    if RoutingModel.objects.exists():  # another process stored one meanwhile
        return _load()
    return _shipped_in_memory()


def training_model():
    from .training import shipped_model

    return shipped_model()[0]


def _report_broken(record, error) -> None:
    from django.utils.translation import gettext as _

    from .actions import tell_administrators

    try:
        tell_administrators(
            f"routing-load:{record.pk}",
            _("Routing model version %(v)s does not load") % {"v": record.version},
            _("Another version serves meanwhile. %(e)s") % {"e": str(error)[:300]},
        )
    except Exception:  # noqa: BLE001 — telling must not stop serving
        log.exception("could not tell administrators")


def _shipped_in_memory() -> Serving:
    """No stored model at all (a new database): the shipped set, trained once per process."""
    global _fallback
    with _fallback_lock:
        if _fallback is None:
            _fallback = Serving(training_model(), None)
        return _fallback


_cache = refcache.RefCache(CACHE_NAME, _load)


def current() -> Serving | None:
    """The serving model, or None when there is none at all (no stored version loads and the
    shipped set cannot be trained): suggestions are then empty, never an error."""
    try:
        return _cache.get()
    except Exception:  # noqa: BLE001
        log.exception("no routing model can serve")
        return None


def changed() -> None:
    """Call inside the transaction that activates another version."""
    refcache.bump(CACHE_NAME)
