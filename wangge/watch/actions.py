"""Every change to watch lists and hits, and the screening of the people register.

Screening: exact by the keyed ID hash (no decryption), fuzzy by the same name sound (toneless
pinyin, pypinyin) and the same birth date: two indexed joins in the database (every person keeps
the sound of their name, Person.name_key). Hits are unique per (entry,
person); a review (confirm / dismiss) is claimed with a conditional UPDATE, so two reviewers never
both decide, and is recorded in the change history.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.scope import restrict
from wangge.core import pii
from wangge.history.actions import record_change, record_changes
from wangge.history.models import ChangeAction
from wangge.registry.models import Person
from wangge.registry.validators import name_key  # the register keeps the same key on every person

from .models import PERMISSION, HitState, Match, WatchEntry, WatchHit, WatchList

CHUNK = 500


def may_use(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))


def check_may_use(user) -> None:
    if not may_use(user):
        raise PermissionDenied(_("Watch lists are only for users with the watch list permission."))


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
    """Compare the whole people register with these lists; new hits are written. Counts by match.

    Two joins in the database, each on an index: exact on the keyed ID hash (Person.id_number_hash,
    unique), fuzzy on (birth date, name key) (Person's index of both; the name key is kept with the
    name). A pair found both ways stays exact. New hits are inserted in batches of CHUNK rows."""
    list_ids = [wl.pk for wl in lists if wl.is_active]
    if not list_ids:
        return {"entries": 0, "exact": 0, "fuzzy": 0, "new": 0}
    q = connection.ops.quote_name
    person, entry, hit = (q(m._meta.db_table) for m in (Person, WatchEntry, WatchHit))
    in_lists = f"e.watch_list_id IN ({', '.join(['%s'] * len(list_ids))})"
    steps = 4
    found: dict[tuple[int, int], tuple[str, str]] = {}  # (entry, person) → (match, area_path)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {entry} e WHERE {in_lists}", list_ids)  # noqa: S608 (no user text)
        entries = cursor.fetchone()[0]
        if progress:
            progress(1, steps)
        cursor.execute(
            f"SELECT e.id, p.id, p.area_path FROM {entry} e JOIN {person} p ON p.id_number_hash = e.id_number_hash "  # noqa: S608
            f"WHERE {in_lists} AND e.id_number_hash != ''",
            list_ids,
        )
        for e, p, area_path in cursor.fetchall():
            found[(e, p)] = (Match.EXACT, area_path)
        if progress:
            progress(2, steps)
        cursor.execute(
            f"SELECT e.id, p.id, p.area_path FROM {entry} e JOIN {person} p "  # noqa: S608
            f"ON p.birth_date = e.birth_date AND p.name_key = e.name_pinyin "
            f"WHERE {in_lists} AND e.birth_date IS NOT NULL AND e.name_pinyin != ''",
            list_ids,
        )
        for e, p, area_path in cursor.fetchall():
            found.setdefault((e, p), (Match.FUZZY, area_path))  # an exact match stays exact
        if progress:
            progress(3, steps)
        cursor.execute(
            f"SELECT h.entry_id, h.person_id FROM {hit} h JOIN {entry} e ON e.id = h.entry_id WHERE {in_lists}",  # noqa: S608
            list_ids,
        )
        existing = set(cursor.fetchall())
        new = [(pair, found[pair]) for pair in found if pair not in existing]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        job_id = job.pk if job is not None else None
        columns = "entry_id, person_id, match, state, area_path, job_id, review_note, created_at"
        state = str(HitState.OPEN)
        for i in range(0, len(new), CHUNK * 10):
            cursor.executemany(
                f"INSERT INTO {hit} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                [(e, p, str(m), state, path, job_id, "", now) for (e, p), (m, path) in new[i : i + CHUNK * 10]],
            )
    if progress:
        progress(steps, steps)
    return {
        "entries": entries,
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
