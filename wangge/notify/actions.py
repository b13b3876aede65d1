"""Telling people things: every write to the outbox, and its delivery, happens here.

notify(), notify_phone() and emit_event() may be called inside the caller's transaction: they write
outbox rows, and after commit a worker task sends the SMS and webhook rows (a periodic task also
sweeps up anything due, so nothing is lost while the worker is down). In-app rows are delivered
when written: the bell reads them.

Delivery (deliver_due) claims one row at a time with a conditional UPDATE, so two workers never
send the same row; a row marked sent is never sent again, and each send carries the row id as an
idempotency key, so a gateway that got a message before a crash can drop the repeat.
"""

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.resolve import MAX_ID
from wangge.core import pii, refcache
from wangge.core.hotsql import insert

from .http import DeliveryError, PermanentDeliveryError
from .models import Channel, Notification, Status, WebhookEndpoint
from .sms import get_backend
from .webhooks import send_webhook

logger = logging.getLogger(__name__)

OUTBOX_CHANNELS = (Channel.SMS, Channel.WEBHOOK)
CLAIM_SECONDS = 300  # a claimed row not finished by then is taken up again (the worker died)
MAX_BACKOFF_MINUTES = 60
SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def _subject(value: str) -> str:
    value = (value or "").strip()
    return value if len(value) <= SUBJECT_MAX else value[: SUBJECT_MAX - 1] + "…"


def _duplicate_of(row: Notification):
    """The rows the dedupe constraint would clash with."""
    rows = Notification.objects.filter(dedupe_key=row.dedupe_key)
    if row.recipient_id is not None:
        return rows.filter(recipient_id=row.recipient_id, channel=row.channel)
    if row.endpoint_id is not None:
        return rows.filter(endpoint_id=row.endpoint_id)
    return rows.filter(recipient=None, channel=Channel.SMS, phone_hash=row.phone_hash)


def _create_once(row: Notification, fresh_key: bool = False) -> Notification | None:
    """Save the row, or nothing if its dedupe key was used: None. Safe inside an outer transaction.

    fresh_key: the key names something made in the caller's transaction (a new case), so no row
    can hold it yet: saved without looking.
    """
    if row.dedupe_key is None or fresh_key:
        return insert(row)
    if _duplicate_of(row).exists():
        return None
    # A savepoint: losing a race with a concurrent writer leaves the caller's transaction usable.
    try:
        with transaction.atomic():
            insert(row)
    except IntegrityError:
        if _duplicate_of(row).exists():
            return None
        raise
    return row


def _deliver_after_commit(rows: list[Notification]) -> None:
    ids = [row.pk for row in rows if row.channel in OUTBOX_CHANNELS]
    if ids:
        # robust: a queue that is down must not fail the caller; the periodic sweep sends them later.
        transaction.on_commit(partial(_enqueue_delivery, ids), robust=True)


def _enqueue_delivery(ids: list[int]) -> None:
    from .tasks import deliver_notifications

    deliver_notifications(ids)


def _sms_row(phone: str, **fields) -> Notification:
    return Notification(
        channel=Channel.SMS, phone_encrypted=pii.encrypt(phone), phone_hash=pii.lookup_hash(phone), **fields
    )


# savepoint=False: the rows that may clash take their own savepoint (_create_once); nothing else here
# needs one, and an intake calls this once per dispatcher.
@transaction.atomic(savepoint=False)
def notify(
    user,
    subject: str,
    body: str = "",
    *,
    url: str = "",
    sms: bool = False,
    dedupe_key: str | None = None,
    fresh_key: bool = False,
) -> list[Notification]:
    """An in-app notification for the user and, with sms=True and a phone on file, an SMS.

    Returns the rows created: none for a channel whose dedupe_key this user already has.
    fresh_key: see _create_once.
    """
    now = timezone.now()
    fields = {"recipient": user, "subject": _subject(subject), "body": body, "url": url, "dedupe_key": dedupe_key}
    created = [_create_once(Notification(channel=Channel.INAPP, status=Status.SENT, sent_at=now, **fields), fresh_key)]
    if sms:
        phone = user.phone
        if phone:
            created.append(_create_once(_sms_row(phone, **fields), fresh_key))
    created = [row for row in created if row is not None]
    _deliver_after_commit(created)
    return created


@transaction.atomic
def notify_phone(phone: str, body: str, *, dedupe_key: str | None = None) -> list[Notification]:
    """An SMS to a bare number (someone without an account). The number is stored encrypted."""
    phone = pii.normalize_phone(phone)
    if not pii.is_valid_phone(phone):
        raise ValidationError({"phone": _("Enter a valid phone number.")})
    row = _create_once(_sms_row(phone, body=body, dedupe_key=dedupe_key))
    created = [row] if row else []
    _deliver_after_commit(created)
    return created


def _load_endpoints() -> tuple[WebhookEndpoint, ...]:
    return tuple(WebhookEndpoint.objects.filter(is_active=True).order_by("pk"))


# The active endpoints, per process: every case change emits an event, endpoints change by hand.
_endpoints = refcache.RefCache("notify.webhooks", _load_endpoints)


def _endpoints_changed(sender, raw=False, **kwargs):
    if not raw:
        refcache.bump("notify.webhooks")


post_save.connect(_endpoints_changed, sender=WebhookEndpoint, dispatch_uid="notify-endpoints-saved")
post_delete.connect(_endpoints_changed, sender=WebhookEndpoint, dispatch_uid="notify-endpoints-deleted")


@transaction.atomic(savepoint=False)
def emit_event(event: str, payload: dict | Callable[[], dict], *, dedupe_key: str | None = None) -> list[Notification]:
    """One webhook delivery per active endpoint subscribed to the event (endpoints with no events: all).

    payload: the data, or a function that makes it, called only when an endpoint wants the event (a
    case's payload reads its area and category: nothing to read on a platform without webhooks).
    With dedupe_key, an endpoint that already has a delivery with that key gets nothing new.
    """
    endpoints = [endpoint for endpoint in _endpoints.get() if endpoint.wants(event)]
    if not endpoints:
        return []
    if callable(payload):
        payload = payload()
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # dates, decimals, UUIDs as JSON
    created = []
    for endpoint in endpoints:
        row = Notification(
            channel=Channel.WEBHOOK, endpoint=endpoint, subject=event, payload=data, dedupe_key=dedupe_key
        )
        if _create_once(row):
            created.append(row)
    _deliver_after_commit(created)
    return created


@transaction.atomic(savepoint=False)
def emit_to(endpoint: WebhookEndpoint, event: str, payload: dict, *, dedupe_key: str | None = None):
    """One webhook delivery to this endpoint only (a partner system's own messages, e.g. the states of
    its work orders); None if the endpoint already has a delivery with this dedupe key."""
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    row = Notification(channel=Channel.WEBHOOK, endpoint=endpoint, subject=event, payload=data, dedupe_key=dedupe_key)
    if _create_once(row) is None:
        return None
    _deliver_after_commit([row])
    return row


def _inbox(user):
    return Notification.objects.filter(recipient=user, channel=Channel.INAPP)


def inbox(user):
    """The user's in-app notifications, newest first."""
    return _inbox(user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return _inbox(user).filter(read_at=None).count()


def mark_read(user, ids=None) -> int:
    """Mark the user's in-app notifications read (ids=None: all). Others' ids are ignored. The number marked."""
    rows = _inbox(user).filter(read_at=None)  # the owner's own rows: others' ids match nothing
    if ids is not None:
        rows = rows.filter(pk__in=[i for i in ids if isinstance(i, int) and 0 < i <= MAX_ID])
    return rows.update(read_at=timezone.now())


def mark_read_before(before, *, since_id: int = 0, delay: timedelta = timedelta(minutes=20)) -> int:
    """Mark everyone's unread in-app notifications from since_id on and created before `before` as read
    `delay` after they arrived: a simulated past (the demo's history), whose users read their bells
    back then. The number marked."""
    rows = Notification.objects.filter(pk__gt=since_id, channel=Channel.INAPP, read_at=None, created_at__lt=before)
    return rows.update(read_at=F("created_at") + delay)


@transaction.atomic
def retry(notification: Notification) -> bool:
    """Send a failed SMS or webhook again from scratch (admin). False if it is not failed."""
    return bool(
        Notification.objects.filter(pk=notification.pk, status=Status.FAILED, channel__in=OUTBOX_CHANNELS).update(
            status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
        )
    )


# ---------------------------------------------------------------- delivery


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4, 8… minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def _due(now) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now, attempts__lt=settings.NOTIFY_MAX_ATTEMPTS
    )


def claim(notification_id: int, now=None) -> Notification | None:
    """Take a due row for sending. Only one caller gets it (a conditional UPDATE); others get None."""
    now = now or timezone.now()
    updated = Notification.objects.filter(_due(now), pk=notification_id, channel__in=OUTBOX_CHANNELS).update(
        status=Status.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1
    )
    if updated != 1:
        return None
    return Notification.objects.select_related("endpoint").get(pk=notification_id)


def _finish(notification: Notification, **fields) -> bool:
    """Record the outcome, if the claim is still ours."""
    return bool(
        Notification.objects.filter(
            pk=notification.pk, status=Status.SENDING, claimed_until=notification.claimed_until
        ).update(claimed_until=None, **fields)
    )


def _send(notification: Notification) -> None:
    if notification.channel == Channel.SMS:
        phone = notification.phone
        if not phone:
            raise PermanentDeliveryError("no phone number")
        get_backend().send(phone, notification.text, idempotency_key=str(notification.pk), notification=notification)
    elif notification.channel == Channel.WEBHOOK:
        send_webhook(notification)
    else:
        raise PermanentDeliveryError(f"nothing to send for channel {notification.channel}")


def send_claimed(notification: Notification, now=None) -> bool:
    """Send a row claimed by claim(); mark it sent, or schedule the retry (or give up). True if sent."""
    try:
        _send(notification)
    except Exception as exc:
        now = now or timezone.now()
        error = str(exc) or exc.__class__.__name__
        if not isinstance(exc, DeliveryError):
            logger.exception("notification %s: backend error", notification.pk)
        if isinstance(exc, PermanentDeliveryError) or notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            _finish(notification, status=Status.FAILED, last_error=error[:2000])
            logger.warning("notification %s failed for good: %s", notification.pk, error)
        else:
            _finish(
                notification,
                status=Status.PENDING,
                next_attempt_at=now + backoff(notification.attempts),
                last_error=error[:2000],
            )
            logger.info("notification %s attempt %s failed: %s", notification.pk, notification.attempts, error)
        return False
    _finish(notification, status=Status.SENT, sent_at=now or timezone.now(), last_error="")
    return True


def deliver_due(now=None, limit: int = 100, ids=None) -> int:
    """Send the SMS and webhook rows that are due (only `ids`, if given). The number sent.

    Not to be called inside a transaction: each claim and each outcome must commit on its own.
    """
    fixed_now = now

    def clock():
        return fixed_now or timezone.now()

    # A worker that died mid-send on the last allowed attempt: give up on the row.
    Notification.objects.filter(
        status=Status.SENDING, claimed_until__lt=clock(), attempts__gte=settings.NOTIFY_MAX_ATTEMPTS
    ).update(status=Status.FAILED, claimed_until=None, last_error="the worker stopped while sending")
    candidates = Notification.objects.filter(_due(clock()), channel__in=OUTBOX_CHANNELS)
    if ids is not None:
        candidates = candidates.filter(pk__in=list(ids))
    sent = 0
    for notification_id in list(candidates.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]):
        notification = claim(notification_id, clock())
        if notification is not None and send_claimed(notification, clock()):
            sent += 1
    return sent
