"""Live events: the three brokers, the hook on case events, the stream endpoint per role."""

import json
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.test import override_settings

from wangge.cases.models import Case
from wangge.insight import live
from wangge.insight.models import DirtyDay, LiveEvent

from .conftest import VILLAGE_B_GRID

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def memory_broker(settings):
    settings.LIVE_BROKER = "memory"
    live.broker.cache_clear()
    yield live.broker()
    live.broker.cache_clear()


def test_memory_broker_reads_after_an_id_and_reports_gaps():
    broker = live.MemoryBroker(keep=3)
    assert broker.read(broker.head(), timeout=0.01) == ([], False)
    ids = [broker.publish({"n": i}) for i in range(5)]
    found, gap = broker.read(ids[2], timeout=0)
    assert [p["n"] for _id, p in found] == [3, 4] and not gap
    found, gap = broker.read(ids[0], timeout=0)  # 1 is no longer kept
    assert [p["n"] for _id, p in found] == [2, 3, 4] and gap


@pytest.mark.django_db
def test_database_broker_reads_after_an_id_and_waits_for_nothing_longer_than_asked():
    broker = live.DatabaseBroker()
    start = broker.head()
    first = broker.publish({"n": 1})
    broker.publish({"n": 2})
    found, gap = broker.read(start, timeout=0)
    assert [p["n"] for _id, p in found] == [1, 2] and not gap
    assert [p["n"] for _id, p in broker.read(first, timeout=0)[0]] == [2]
    assert broker.read(broker.head(), timeout=0.05) == ([], False)
    LiveEvent.objects.filter(pk__lte=int(first)).delete()  # pruned: the oldest go first
    assert broker.read(start, timeout=0)[1] is True


@pytest.mark.serial
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIPPED: SQLite writers take turns anyway")
def test_on_postgresql_live_event_ids_commit_in_order():
    """A writer that took an id waits for nobody; one that comes later waits for its commit, so
    a reader never sees a later id before an earlier one."""
    broker = live.DatabaseBroker()
    start = broker.head()
    second_done = threading.Event()

    def second():
        broker.publish({"n": 2})
        second_done.set()
        connection.close()

    with transaction.atomic():
        first = broker.publish({"n": 1})  # its id is taken, not committed yet
        thread = threading.Thread(target=second)
        thread.start()
        assert not second_done.wait(0.5), "the second writer did not wait for the first's commit"
    thread.join(5)
    assert second_done.is_set()
    found, _gap = broker.read(start, timeout=0)
    assert [p["n"] for _id, p in found] == [1, 2] and found[0][0] == first


@pytest.fixture
def redis_broker(settings):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip(f"SKIPPED: Redis is not reachable at {REDIS_URL}")
    stream = f"wangge:test:{uuid.uuid4().hex}"
    broker = live.RedisBroker(REDIS_URL, stream)
    yield broker
    broker.client.delete(stream)


def test_redis_broker_shares_events_between_brokers(redis_broker):
    other_server = live.RedisBroker(REDIS_URL, redis_broker.stream)  # another web server, same stream
    start = other_server.head()
    first = redis_broker.publish({"n": 1, "text": "占道经营"})
    redis_broker.publish({"n": 2})
    found, gap = other_server.read(start, timeout=0.1)
    assert [p["n"] for _id, p in found] == [1, 2] and found[0][1]["text"] == "占道经营" and not gap
    assert [p["n"] for _id, p in other_server.read(first, timeout=0.1)[0]] == [2]
    assert other_server.read(other_server.head(), timeout=0.05) == ([], False)
    redis_broker.client.xtrim(redis_broker.stream, maxlen=1, approximate=False)  # older events trimmed away
    assert other_server.read(start, timeout=0.1)[1] is True


def test_a_new_case_marks_its_day_and_is_published_after_commit(
    memory_broker, new_case, django_capture_on_commit_callbacks
):
    start = memory_broker.head()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = new_case()
    assert memory_broker.read(start, timeout=0) == ([], False)  # nothing before the commit
    assert DirtyDay.objects.exists()
    for callback in callbacks:
        callback()
    ((event_id, message),) = memory_broker.read(start, timeout=0)[0]
    assert message["type"] == "case.created" and message["id"] == case.pk and message["status"] == "reported"
    assert message["area_path"] == case.area_path and "reporter_phone" not in json.dumps(message)


def test_a_new_cases_message_is_built_without_a_query_and_matches_the_committed_row(
    memory_broker, new_case, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from wangge.insight.receivers import case_message, new_case_message

    with django_capture_on_commit_callbacks(execute=True):
        case = new_case()
    with django_assert_num_queries(0):
        built = new_case_message(case)
    assert built == case_message(case.pk, "report")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SKIPPED: the in-transaction event is for SQLite only")
def test_on_sqlite_the_database_broker_writes_a_new_cases_event_in_its_transaction(settings, new_case):
    settings.LIVE_BROKER = "database"
    live.broker.cache_clear()
    try:
        before = LiveEvent.objects.count()
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            new_case()
            assert LiveEvent.objects.count() == before + 1  # written with the case…
            raise ZeroDivisionError
        assert LiveEvent.objects.count() == before  # …and gone with it
        case = new_case()
        assert LiveEvent.objects.latest("pk").payload["id"] == case.pk
    finally:
        live.broker.cache_clear()


def _stream(client, after):
    response = client.get("/command/live/", headers={"Last-Event-ID": after})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    return b"".join(response.streaming_content).decode()


@override_settings(LIVE_STREAM_SECONDS=0.2)
def test_the_stream_carries_only_cases_the_user_may_see(
    memory_broker, new_case, client_as, django_capture_on_commit_callbacks
):
    start = memory_broker.head()
    with django_capture_on_commit_callbacks(execute=True):
        mine = new_case()
        other = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    village = _stream(client_as("village_dispatcher"), start)
    assert f'"id": {mine.pk}' in village and f'"id": {other.pk}' not in village
    assert "area_path" in village and "departments" not in village
    town = _stream(client_as("town_dispatcher"), start)
    assert f'"id": {mine.pk}' in town and f'"id": {other.pk}' in town
    assert "event: case.created" in town and town.startswith("retry: 1000")


def test_beyond_the_held_streams_the_answer_is_immediate_polling(memory_broker, client_as, settings):
    from wangge.insight import views

    settings.LIVE_STREAM_SECONDS = 30
    slots = [views._stream_slots.acquire(blocking=False) for _ in range(settings.LIVE_MAX_STREAMS)]
    try:
        assert all(slots)
        memory_broker.publish({"type": "case.changed", "id": 1, "area_path": "441900/", "departments": []})
        body = _stream(client_as("city_dispatcher"), str(int(memory_broker.head()) - 1))  # returns at once
        assert body.startswith(f"retry: {settings.LIVE_POLL_RETRY_MS}") and '"id": 1' in body
    finally:
        for _ in slots:
            views._stream_slots.release()


def test_the_stream_needs_a_login(client):
    assert client.get("/command/live/").status_code == 302


def test_a_transition_is_published(memory_broker, new_case, django_capture_on_commit_callbacks):
    from .conftest import act

    case = new_case()
    start = memory_broker.head()
    with django_capture_on_commit_callbacks(execute=True):
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
    ((_id, message),) = memory_broker.read(start, timeout=0)[0]
    assert message["type"] == "case.changed" and message["action"] == "dispatch"
    assert message["status"] == "handling" and message["departments"] and Case.objects.get(pk=case.pk).version == 2
