"""Live events for open pages (server-sent events): a case was reported, changed state, became
overdue. Three brokers with one interface — publish(payload), read(after, timeout), head():

- "database" (the embedded default): rows in insight_liveevent, read by id. Every process sees
  them: the web workers of gunicorn and the huey worker (escalations by rule) alike.
- "redis" (the default when REDIS_URL is set): a Redis stream (XADD / XREAD BLOCK), i.e. Redis
  pub/sub that keeps the last LIVE_KEEP events, so several web servers share them and a page
  that reconnects (Last-Event-ID) to another server misses nothing.
- "memory": in this process only (a ring buffer and a condition variable); for a single-process
  server (runserver, one gunicorn worker) and tests.

Ids are strings that only the broker that made them compares. See docs/architecture.md (Live
updates) for how the stream endpoint keeps gunicorn's threads free.
"""

import json
import threading
import time
from collections import deque
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wangge.core.hotsql import insert


class MemoryBroker:
    def __init__(self, keep=None):
        self.events = deque(maxlen=keep or settings.LIVE_KEEP)
        self.condition = threading.Condition()
        self.last = 0

    def ids_follow_commit_order(self) -> bool:
        return False  # outside the database: an event written before the commit could outlive a rollback

    def publish(self, payload: dict) -> str:
        with self.condition:
            self.last += 1
            self.events.append((self.last, payload))
            self.condition.notify_all()
            return str(self.last)

    def head(self) -> str:
        return str(self.last)

    def read(self, after: str, timeout: float) -> tuple[list[tuple[str, dict]], bool]:
        """Events after `after`, waiting up to timeout for the first; (events, gap): gap means
        some events after `after` are no longer kept (the page should reload its data)."""
        after_n = _int(after, self.last)
        with self.condition:
            if self.last <= after_n:
                self.condition.wait_for(lambda: self.last > after_n, timeout=timeout)
            found = [(str(n), p) for n, p in self.events if n > after_n]
            gap = bool(self.events) and self.events[0][0] > after_n + 1 and after_n < self.last
            return found, gap


LIVE_EVENT_LOCK = 0x77676C76  # "wglv": PostgreSQL advisory lock key of the live-event writers


class DatabaseBroker:
    def ids_follow_commit_order(self) -> bool:
        """On SQLite writers take turns (the write lock), so a row written inside a transaction gets
        its id in commit order and readers polling by id never skip one: intake writes its event
        in its own transaction, without a second turn at the lock. On PostgreSQL ids taken by
        concurrent transactions may commit out of order."""
        return connection.vendor == "sqlite"

    def publish(self, payload: dict) -> str:
        from .models import LiveEvent

        if connection.vendor != "postgresql":
            return str(insert(LiveEvent(payload=payload)).pk)
        # Readers poll "id > the last seen". A sequence hands out ids at INSERT, and two writers can
        # commit in the other order: a reader that saw the later id would never see the earlier
        # one. Writers take turns instead (a lock held to commit), so ids commit in order.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIVE_EVENT_LOCK])
            return str(insert(LiveEvent(payload=payload)).pk)

    def head(self) -> str:
        from .models import LiveEvent

        return str(LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)

    def read(self, after: str, timeout: float):
        from .models import LiveEvent

        after_n = _int(after, None)
        if after_n is None:
            after_n = int(self.head())
        deadline = time.monotonic() + timeout
        while True:
            rows = list(
                LiveEvent.objects.filter(pk__gt=after_n)
                .order_by("pk")
                .values_list("pk", "payload")[: settings.LIVE_KEEP]
            )
            if rows or time.monotonic() >= deadline:
                break
            time.sleep(min(settings.LIVE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        # Old rows are pruned: a page that was away longer than that must reload its data.
        oldest = LiveEvent.objects.order_by("pk").values_list("pk", flat=True).first()
        gap = oldest is not None and oldest > after_n + 1
        return [(str(pk), payload) for pk, payload in rows], gap

    def prune(self, older_than_seconds: float) -> int:
        from .models import LiveEvent

        cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
        return LiveEvent.objects.filter(created_at__lt=cutoff).delete()[0]


class RedisBroker:
    def __init__(self, url=None, stream=None):
        import redis

        self.client = redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=None)
        self.stream = stream or settings.LIVE_REDIS_STREAM

    def ids_follow_commit_order(self) -> bool:
        return False  # outside the database

    def publish(self, payload: dict) -> str:
        data = json.dumps(payload, ensure_ascii=False)
        return self.client.xadd(self.stream, {"p": data}, maxlen=settings.LIVE_KEEP, approximate=True).decode()

    def head(self) -> str:
        last = self.client.xrevrange(self.stream, count=1)
        return last[0][0].decode() if last else "0-0"

    def read(self, after: str, timeout: float):
        after = after if _is_stream_id(after) else self.head()
        answer = self.client.xread({self.stream: after}, count=settings.LIVE_KEEP, block=max(1, int(timeout * 1000)))
        events = [(i.decode(), json.loads(fields[b"p"])) for _stream, rows in answer for i, fields in rows]
        gap = False
        if events:
            # Trimming drops the oldest entries: a gap when some were dropped and the oldest kept
            # one is beyond what the page saw (a harmless reload when the dropped were older).
            info = self.client.xinfo_stream(self.stream)
            first = info.get("first-entry")
            dropped = info.get("entries-added", 0) - info.get("length", 0)
            gap = bool(first) and dropped > 0 and _stream_key(first[0].decode()) > _stream_key(after)
        return events, gap


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _is_stream_id(value) -> bool:
    try:
        _stream_key(value)
        return True
    except (TypeError, ValueError, AttributeError):
        return False


def _stream_key(value: str) -> tuple[int, int]:
    ms, _sep, seq = value.partition("-")
    return int(ms), int(seq or 0)


@cache
def broker():
    """The broker this process uses (settings.LIVE_BROKER)."""
    kind = settings.LIVE_BROKER
    if kind == "redis":
        return RedisBroker()
    if kind == "memory":
        return MemoryBroker()
    if kind == "database":
        return DatabaseBroker()
    raise ValueError(f"WANGGE_LIVE_BROKER must be database, redis or memory, not {kind!r}")


def publish(payload: dict) -> str:
    return broker().publish(payload)


def publish_in_transaction(payload: dict) -> None:
    """Publish an event of the current transaction: it is seen only if the transaction commits.
    A broker whose event ids follow commit order writes it inside the transaction; the others
    publish after commit."""
    chosen = broker()
    if chosen.ids_follow_commit_order():
        chosen.publish(payload)
    else:
        transaction.on_commit(lambda: chosen.publish(payload), robust=True)
