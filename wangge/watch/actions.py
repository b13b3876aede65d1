"""Every change to watch lists and hits, and the screening of the people register.

Screening: exact by the keyed ID hash (no decryption), fuzzy by the same name sound (toneless
pinyin, pypinyin) and the same birth date. People are narrowed to the entries' birth dates in the
database first, so the pinyin of only those names is computed. Hits are unique per (entry,
person); a review (confirm / dismiss) is claimed with a conditional UPDATE, so two reviewers never
both decide, and is recorded in the change history.
"""

import re
from collections import defaultdict
from datetime import date
from functools import lru_cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from wangge.accounts.scope import restrict
from wangge.core import pii
from wangge.history.actions import record_change, record_changes
from wangge.history.models import ChangeAction
from wangge.registry.models import Person

from .models import PERMISSION, HitState, Match, WatchEntry, WatchHit, WatchList

CHUNK = 500


def may_use(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def check_may_use(user) -> None:
    if not may_use(user):
        raise PermissionDenied(_("Watch lists are only for users with the watch list permission."))


_NOT_NAME = re.compile(r"[\s·•．.\-_]+")


@lru_cache(maxsize=50_000)
def _sound(char: str) -> str:
    return lazy_pinyin(char)[0].lower() if "\u3400" <= char <= "\u9fff" else char.lower()


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """A name as it sounds: toneless pinyin of each character, lower case ("张 伟", "章玮" → "zhang wei").
    Character by character (cached), so that a million names cost a dictionary lookup each."""
    return " ".join(_sound(c) for c in _NOT_NAME.sub("", name or ""))


def visible_hits(user):
    """Hits about people in the user's jurisdiction; none without the permission."""
    if not may_use(user):
        return WatchHit.objects.none()
    return restrict(
        WatchHit.objects.select_related("entry__watch_list", "person__area", "reviewed_by"), user, "area_path"
    )


# ---------------------------------------------------------------- lists and entries


@transaction.atomic
def add_entries(watch_list: WatchList, rows: list[dict], *, acting_user) -> list[WatchEntry]:
    """Entries from checked rows: name, id_number (normalised, optional), birth_date, note."""
    check_may_use(acting_user)
    entries = []
    for row in rows:
        number = row.get("id_number") or ""
        entry = WatchEntry(
            watch_list=watch_list,
            name=row["name"],
            name_pinyin=name_key(row["name"]),
            birth_date=row.get("birth_date"),
            note=row.get("note") or "",
        )
        if number:
            entry.id_number_encrypted = pii.encrypt(number)
            entry.id_number_hash = pii.lookup_hash(number)
            entry.id_number_masked = pii.mask_id_number(number)
        entries.append(entry)
    WatchEntry.objects.bulk_create(entries, batch_size=CHUNK)
    record_changes([(e, ChangeAction.CREATE, None, e.history_snapshot()) for e in entries], acting_user=acting_user)
    return entries


# ---------------------------------------------------------------- screening


def screen(lists, *, job=None, progress=None) -> dict:
    """Compare the whole people register with these lists; new hits are written. Counts by match."""
    entries = list(WatchEntry.objects.filter(watch_list__in=lists, watch_list__is_active=True))
    by_hash = defaultdict(list)
    by_sound = defaultdict(list)  # (birth date, name key) → entries
    for e in entries:
        if e.id_number_hash:
            by_hash[e.id_number_hash].append(e)
        if e.birth_date and e.name_pinyin:
            by_sound[(e.birth_date.isoformat(), e.name_pinyin)].append(e)
    dates = sorted({d for d, _k in by_sound})
    steps = max(1, (len(by_hash) + CHUNK - 1) // CHUNK + (len(dates) + 4999) // 5000)
    step = 0
    found: dict[tuple[int, int], tuple[str, str]] = {}  # (entry, person) → (match, area_path)

    def advance():
        nonlocal step
        step += 1
        if progress:
            progress(step, steps)

    hashes = list(by_hash)
    for i in range(0, len(hashes), CHUNK):
        people = Person.objects.filter(id_number_hash__in=hashes[i : i + CHUNK]).values_list(
            "pk", "id_number_hash", "area_path"
        )
        for pk, number_hash, area_path in people:
            for e in by_hash[number_hash]:
                found[(e.pk, pk)] = (Match.EXACT, area_path)
        advance()
    # Fuzzy: the people born on an entry's birth date (the database picks them, in a few scans of
    # 5,000 dates each, plain SQL so that a million rows do not go through the ORM), then the sound
    # of their names. Dates compared as ISO text: SQLite hands back text, PostgreSQL dates.
    table = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(dates), 5000):
            chunk = dates[i : i + 5000]
            cursor.execute(
                f"SELECT id, name, birth_date, area_path FROM {table} "  # noqa: S608 (no user text)
                f"WHERE birth_date IN ({', '.join(['%s'] * len(chunk))})",
                chunk if connection.vendor == "sqlite" else [date.fromisoformat(d) for d in chunk],
            )
            while rows := cursor.fetchmany(5000):
                for pk, name, birth_date, area_path in rows:
                    for e in by_sound.get((str(birth_date), name_key(name)), ()):
                        found.setdefault((e.pk, pk), (Match.FUZZY, area_path))  # an exact match stays exact
            advance()
    existing = set()
    pairs = list(found)
    for i in range(0, len(pairs), CHUNK):
        chunk = pairs[i : i + CHUNK]
        existing |= set(
            WatchHit.objects.filter(entry_id__in={e for e, _p in chunk}, person_id__in={p for _e, p in chunk})
            .values_list("entry_id", "person_id")
        )  # fmt: skip
    new = [
        WatchHit(entry_id=e, person_id=p, match=found[(e, p)][0], area_path=found[(e, p)][1], job=job)
        for e, p in pairs
        if (e, p) not in existing
    ]
    WatchHit.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
    if progress:
        progress(steps, steps)
    return {
        "entries": len(entries),
        "exact": sum(1 for m, _a in found.values() if m == Match.EXACT),
        "fuzzy": sum(1 for m, _a in found.values() if m == Match.FUZZY),
        "new": len(new),
    }


def queue_screening(user, watch_list: WatchList | None = None, *, inline: bool = False):
    """A screening job of one list (or all active lists) against the whole people register."""
    from wangge.jobs import actions as job_actions
    from wangge.jobs.models import Kind

    params = {"watch_list": watch_list.pk if watch_list else None}
    job = job_actions.create_job(Kind.SCREENING, "people", user, params=params)
    return job_actions.start(job, inline=inline)


def run_screening_job(job) -> None:
    """The jobs app's runner for Kind.SCREENING. Anyone's import may start one; only users with
    the permission see what it found (in the review queue)."""
    from wangge.jobs.actions import Progress, finish
    from wangge.jobs.models import State

    lists = WatchList.objects.filter(is_active=True)
    if job.params.get("watch_list"):
        lists = lists.filter(pk=job.params["watch_list"])
    job.stage = "screen"
    counts = screen(list(lists), job=job, progress=Progress(job, "screen"))
    job.done = job.total = max(job.total, 1)
    if may_use(job.owner):
        message = (
            _("Screening done: %(new)d new hits (%(exact)d by ID number, %(fuzzy)d by name and birth date).") % counts
        )
        result = counts
    else:
        message, result = _("Screening done."), {}
    finish(job, State.DONE, message=message, result=result)


# ---------------------------------------------------------------- review


class AlreadyReviewed(Exception):
    """Somebody else decided on this hit in the meantime (HTTP 409)."""


@transaction.atomic
def review_hit(hit: WatchHit, user, decision: str, note: str = "") -> WatchHit:
    """Confirm or dismiss an open hit; recorded (who, when, why)."""
    check_may_use(user)
    if not visible_hits(user).filter(pk=hit.pk).exists():
        raise PermissionDenied(_("This hit is outside your jurisdiction."))
    if decision not in (HitState.CONFIRMED, HitState.DISMISSED):
        raise ValidationError({"decision": _("Choose confirm or dismiss.")})
    note = (note or "").strip()
    if decision == HitState.DISMISSED and not note:
        raise ValidationError({"note": _("Say why the hit is dismissed.")})
    if len(note) > 500:
        raise ValidationError({"note": _("At most 500 characters.")})
    before = hit.history_snapshot()
    now = timezone.now()
    claimed = WatchHit.objects.filter(pk=hit.pk, state=HitState.OPEN).update(
        state=decision, reviewed_by=user, reviewed_at=now, review_note=note
    )
    if not claimed:
        raise AlreadyReviewed(_("This hit has been reviewed by someone else in the meantime."))
    hit.refresh_from_db()
    # Not related to the person: the person's page history is read by people without this permission.
    record_change(hit, ChangeAction.UPDATE, acting_user=user, before=before, after=hit.history_snapshot())
    return hit
