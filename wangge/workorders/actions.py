"""Work orders in, states out: every write of the workorders app.

receive_order(): a platform's work order becomes a case (cases intake, channel `workorder`, filed by
the platform as the system), once per (platform, external id). push_state(): one state of an order
queued for the platform's webhook endpoint, once per order, state and round; pump() sends a work
order's queued states one at a time, so the platform gets them in order even when a delivery has to
be retried.
"""

import math
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wangge.areas.locate import OutsideCity, locate
from wangge.cases import actions as cases
from wangge.cases import refs
from wangge.cases.models import Case, Channel, Severity, Status
from wangge.core import pii
from wangge.notify import actions as notify
from wangge.notify.models import Status as SendStatus
from wangge.registry.models import StandardAddress

from .models import Platform, State, WorkOrder, WorkOrderPush

EVENT = "workorder.state"  # the webhook event name of every pushed state
# Report fields named as the work order names them (a 400 names the field the platform sent).
FIELD_NAMES = {
    "description": "content",
    "lat": "place.lat",
    "lng": "place.lng",
    "reporter_phone": "caller.phone",
    "reporter_name": "caller.name",
    "address": "place.address",
    "category": "category_hint",
}


def _text(body: dict, key: str, limit: int, errors: dict, name: str | None = None) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name or key] = _("Must be text.")
        return ""
    if len(value) > limit:
        errors[name or key] = _("At most %(n)s characters.") % {"n": limit}
    return value.strip()


def _number(value, name: str, errors: dict) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[name] = _("Must be a number.")
        return None
    return float(value)


def _place(body: dict, errors: dict) -> tuple[float | None, float | None, str]:
    """(lat, lng, address text): a point, or an address the registry knows (its point)."""
    place = body.get("place")
    if not isinstance(place, dict):
        errors["place"] = _('Give the place: {"lat", "lng"} or {"address"}.')
        return None, None, ""
    address = _text(place, "address", 200, errors, "place.address")
    if place.get("lat") is not None or place.get("lng") is not None:
        lat = _number(place.get("lat"), "place.lat", errors)
        lng = _number(place.get("lng"), "place.lng", errors)
        if lat is None or lng is None:
            return None, None, address
        try:
            locate(lat, lng)
        except OutsideCity:
            errors["place"] = _("This place is outside the city; the platform cannot take cases there.")
        return lat, lng, address
    if not address:
        errors["place"] = _('Give the place: {"lat", "lng"} or {"address"}.')
        return None, None, ""
    # An address text: the registry's standard address with this full text (its own point).
    found = StandardAddress.objects.filter(full_text=address).values_list("lat", "lng").first()
    if found is None:
        errors["place.address"] = _("Unknown address; send the point (lat, lng) instead.")
        return None, None, address
    return found[0], found[1], address


def _deadline(body: dict, errors: dict) -> datetime | None:
    value = body.get("deadline")
    if value in (None, ""):
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or timezone.is_naive(moment):
        errors["deadline"] = _("A date and time with its offset, e.g. 2026-12-05T18:00:00+08:00.")
        return None
    return moment


def parse_order(body) -> dict:
    """The work order's fields, checked; ValidationError naming every bad field (docs/workorders.md)."""
    if not isinstance(body, dict):
        raise ValidationError({"__all__": _("The body must be a JSON object.")})
    errors = {}
    order_id = body.get("order_id")
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str) or not order_id.strip():
        errors["order_id"] = _("The work order's own number is required.")
    elif len(order_id) > 100:
        errors["order_id"] = _("At most %(n)s characters.") % {"n": 100}
    content = _text(body, "content", 2000, errors)
    if not content and "content" not in errors:
        errors["content"] = _("Describe the problem.")
    caller = body.get("caller") or {}
    if not isinstance(caller, dict):
        errors["caller"] = _('Give the caller as {"name", "phone"}.')
        caller = {}
    name = _text(caller, "name", 50, errors, "caller.name")
    phone = _text(caller, "phone", 30, errors, "caller.phone")
    if phone and not pii.is_valid_phone(pii.normalize_phone(phone)):
        errors["caller.phone"] = _("Not a valid phone number.")
    hint = _text(body, "category_hint", 100, errors)
    urgent = body.get("urgent", False)
    if not isinstance(urgent, bool):
        errors["urgent"] = _("Must be true or false.")
    deadline = _deadline(body, errors)
    lat, lng, address = _place(body, errors)
    if errors:
        raise ValidationError(errors)
    return {
        "order_id": order_id.strip(),
        "content": content,
        "name": name,
        "phone": pii.normalize_phone(phone) if phone else "",
        "hint": hint,
        "urgent": urgent,
        "deadline": deadline,
        "lat": lat,
        "lng": lng,
        "address": address,
    }


def _category_code(hint: str) -> str:
    """The hint as a category code when it is one ("event:0102" or "0102"); else none (kept as text)."""
    kind, _sep, code = hint.rpartition(":")
    return hint if hint and refs.category(code, kind) is not None else ""


def receive_order(platform: Platform, body) -> tuple[WorkOrder, bool]:
    """A work order in: (order, created). The same external id again answers with the order it made."""
    data = parse_order(body)
    existing = WorkOrder.objects.filter(platform=platform, external_id=data["order_id"]).select_related("case")
    if (order := existing.first()) is not None:
        return order, False
    report = cases.Report(
        description=data["content"],
        channel=Channel.WORKORDER,
        lat=data["lat"],
        lng=data["lng"],
        address=data["address"],
        category=_category_code(data["hint"]),
        # Urgency alerts the leaders and is the desk's call (cases.channels): the platform's "urgent"
        # makes the case important, first in the registration queue.
        severity=Severity.IMPORTANT if data["urgent"] else "",
        reporter_name=data["name"],
        reporter_phone=data["phone"],
    )
    try:
        with transaction.atomic():
            case, _created = cases.report_case(report, None, system=True)
            if data["deadline"] is not None:
                # The platform's deadline is the case's: dispatch is due by it too, at the latest.
                case.due_at = data["deadline"]
                case.dispatch_deadline = min(case.dispatch_deadline or case.due_at, case.due_at)
                Case.objects.filter(pk=case.pk).update(due_at=case.due_at, dispatch_deadline=case.dispatch_deadline)
            order = WorkOrder.objects.create(
                platform=platform,
                external_id=data["order_id"],
                case=case,
                caller_name=data["name"],
                caller_phone_encrypted=pii.encrypt(data["phone"]) if data["phone"] else "",
                caller_phone_hash=pii.lookup_hash(data["phone"]) if data["phone"] else "",
                category_hint=data["hint"],
                deadline=data["deadline"],
            )
            if case.status == Status.REGISTERED:  # registered at intake (an urgent matter item)
                push_state(case, State.ACCEPTED, {})
    except IntegrityError:
        # The same order pushed twice at once: the other push made it (this one wrote nothing).
        order = existing.first()
        if order is None:
            raise
        return order, False
    except ValidationError as exc:
        raise ValidationError({FIELD_NAMES.get(k, k): v for k, v in exc.message_dict.items()}) from None
    return order, True


# ------------------------------------------------------------------------------------ states out


def order_out(order: WorkOrder) -> dict:
    case = order.case
    return {
        "order_id": order.external_id,
        "case": {"number": case.number, "tracking_number": case.tracking_number, "status": case.status},
    }


@transaction.atomic
def push_state(case: Case | int, state: str, payload: dict | None = None) -> WorkOrderPush | None:
    """Queue one state of a work order's case for its platform: None when the case came from no
    work order, or this state was pushed already in this round (a reopened case starts a new round).
    For the callbacks app: push_state(case, "callback", {"reached": …, "resolved": …, "satisfaction": …})."""
    if state not in State.values:
        raise ValueError(f"unknown work-order state {state!r}")
    case_id = case.pk if isinstance(case, Case) else case
    rows = WorkOrder.objects.select_for_update(of=("self",)).select_related("platform__endpoint", "case")
    order = rows.filter(case_id=case_id).first()
    if order is None:
        return None
    pushes = WorkOrderPush.objects.filter(order=order)
    reopened = pushes.filter(state=State.REOPENED).count()
    round_ = reopened + 1 if state == State.REOPENED else reopened
    seq = (pushes.aggregate(m=Max("seq"))["m"] or 0) + 1
    fresh = order.case
    document = {
        "platform": order.platform.code,
        "order_id": order.external_id,
        "state": state,
        "seq": seq,
        "round": round_,
        "at": timezone.now().isoformat(),
        "case_number": fresh.number,
        "tracking_number": fresh.tracking_number,
        **(payload or {}),
    }
    push = WorkOrderPush(order=order, state=state, round=round_, seq=seq, payload=document)
    try:
        with transaction.atomic():
            push.save()
    except IntegrityError:
        return None  # told already
    _pump_order(order)
    return push


def _pump_order(order: WorkOrder) -> WorkOrderPush | None:
    """Hand the order's next queued state to the outbox, unless an earlier one is still on its way
    (pending or being retried): states reach the platform one at a time, in order. A state the
    outbox gave up on (failed) holds nothing back."""
    endpoint = order.platform.endpoint
    if endpoint is None or not endpoint.is_active or not order.platform.is_active:
        return None
    pushes = WorkOrderPush.objects.filter(order=order)
    if pushes.filter(notification__status__in=[SendStatus.PENDING, SendStatus.SENDING]).exists():
        return None
    push = pushes.filter(notification__isnull=True).order_by("seq").first()
    if push is None:
        return None
    push.notification = notify.emit_to(endpoint, EVENT, push.payload, dedupe_key=push.dedupe_key)
    if push.notification is None:  # a delivery with this key exists (written before a crash): link it
        push.notification = endpoint.deliveries.filter(dedupe_key=push.dedupe_key).first()
    push.save(update_fields=["notification"])
    return push


def pump() -> int:
    """Queue the next state of every work order whose earlier states are through (the worker, every minute)."""
    waiting = WorkOrderPush.objects.filter(notification__isnull=True).values_list("order_id", flat=True).distinct()
    queued = 0
    rows = WorkOrder.objects.select_for_update(of=("self",)).select_related("platform__endpoint")
    for order_id in list(waiting):
        with transaction.atomic():
            order = rows.get(pk=order_id)
            queued += _pump_order(order) is not None
    return queued
