"""The sensor pages: the list's states, filters and counts, jurisdiction per role, the detail page
(404 outside the jurisdiction), the query count of the list, the case page's link to its sensor."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wangge.cases.models import Case, Status
from wangge.sensors import actions, queries
from wangge.sensors.models import Kind, Sensor

VILLAGE_B_GRID = "441900122003001"  # the next village (grid_manager2's), same town


@pytest.fixture
def four_states(sensor):
    """One sensor per state in village A, one normal sensor in village B; codes say the state."""
    now = timezone.now()
    sensor(code="a-alarm")
    actions.record_reading("a-alarm", "m1", 3, now - timedelta(hours=2))
    actions.record_reading("a-alarm", "m2", 30, now - timedelta(minutes=5))  # opens a case
    sensor(code="a-normal", name="竹溪水位", kind=Kind.WATER_LEVEL)
    actions.record_reading("a-normal", "m1", 2.5, now - timedelta(hours=1))
    sensor(code="a-silent")
    actions.record_reading("a-silent", "m1", 2.5, now - timedelta(hours=30))
    sensor(code="a-never")  # never read: silent as well
    s = sensor(code="a-off")
    actions.record_reading("a-off", "m1", 1, now - timedelta(hours=1))
    Sensor.objects.filter(pk=s.pk).update(is_active=False)
    b = point(VILLAGE_B_GRID)
    sensor(code="b-normal", lat=b[0], lng=b[1])
    actions.record_reading("b-normal", "m1", 1, now)


def point(code):
    from wangge.areas.models import Area

    area = Area.objects.get(code=code)
    return area.centroid_lat, area.centroid_lng


def rows(response) -> dict[str, str]:
    """{code: state} of the list page's table."""
    import re

    html = response.content.decode()
    return dict(re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)">', html))


def tab_counts(response) -> dict[str, int]:
    import re

    html = response.content.decode()
    return {s: int(n) for s, n in re.findall(r'data-state="(\w+)">[^<]*<span class="count">(\d+)</span>', html)}


def test_the_list_shows_each_sensors_state_and_counts_them(four_states, client_as):
    response = client_as("village_dispatcher").get("/sensors/")
    assert response.status_code == 200
    assert rows(response) == {
        "a-alarm": "alarm",
        "a-normal": "normal",
        "a-silent": "silent",
        "a-never": "silent",
        "a-off": "inactive",
    }
    assert list(rows(response)) == ["a-alarm", "a-never", "a-silent", "a-normal", "a-off"]  # attention first
    assert tab_counts(response) == {"all": 5, "alarm": 1, "silent": 2, "normal": 1, "inactive": 1}
    html = response.content.decode()
    case = Case.objects.get(channel="sensor")
    assert f'href="/cases/{case.pk}/"' in html  # the alarm's open case
    assert 'id="sensor-points"' in html and '"state": "alarm"' in html  # the map's dots
    assert "报警" in html and "物联感知" in html  # zh-hans by default


def test_the_list_filters_by_state_kind_area_and_text(four_states, client_as):
    client = client_as("town_dispatcher")
    assert set(rows(client.get("/sensors/", {"state": "alarm"}))) == {"a-alarm"}
    assert set(rows(client.get("/sensors/", {"state": "silent"}))) == {"a-silent", "a-never"}
    assert set(rows(client.get("/sensors/", {"kind": "water_level"}))) == {"a-normal"}
    assert set(rows(client.get("/sensors/", {"area": "441900122003"}))) == {"b-normal"}
    assert set(rows(client.get("/sensors/", {"area": "nowhere"}))) == set()
    assert set(rows(client.get("/sensors/", {"q": "水位"}))) == {"a-normal"}
    assert set(rows(client.get("/sensors/", {"q": "A-SIL"}))) == {"a-silent"}
    both = client.get("/sensors/", {"state": "normal", "area": "441900122002"})
    assert set(rows(both)) == {"a-normal"}
    assert tab_counts(both)["all"] == 5 and tab_counts(both)["normal"] == 1  # counts ignore the state tab only
    assert client.get("/sensors/", {"state": "nonsense"}).status_code == 200


def test_a_closed_case_ends_the_alarm(four_states, client_as):
    Case.objects.filter(channel="sensor").update(status=Status.CLOSED)
    assert rows(client_as("village_dispatcher").get("/sensors/"))["a-alarm"] == "normal"


def test_silent_after_the_configured_hours(four_states, client_as, settings):
    settings.SENSOR_SILENT_HOURS = 0.5
    assert rows(client_as("village_dispatcher").get("/sensors/"))["a-normal"] == "silent"


# What each command-center role sees of the four_states sensors (the pages and the API alike).
COMMANDERS_SEE = [
    ("village_dispatcher", {"a-alarm", "a-normal", "a-silent", "a-never", "a-off"}),
    ("town_dispatcher", {"a-alarm", "a-normal", "a-silent", "a-never", "a-off", "b-normal"}),
    ("leader", {"a-alarm", "a-normal", "a-silent", "a-never", "a-off", "b-normal"}),
    ("city_dispatcher", {"a-alarm", "a-normal", "a-silent", "a-never", "a-off", "b-normal"}),
    ("liaobu_dispatcher", set()),
    ("admin", {"a-alarm", "a-normal", "a-silent", "a-never", "a-off", "b-normal"}),
]


@pytest.mark.parametrize(("username", "sees"), COMMANDERS_SEE)
def test_commanders_see_their_jurisdiction(four_states, client_as, username, sees):
    client = client_as(username)
    page = client.get("/sensors/")
    assert page.status_code == 200 and set(rows(page)) == sees
    assert 'href="/sensors/"' in page.content.decode()  # in the menu
    assert client.get("/sensors/b-normal/").status_code == (200 if "b-normal" in sees else 404)
    assert client.get("/sensors/a-alarm/").status_code == (200 if "a-alarm" in sees else 404)


@pytest.mark.parametrize("username", ["grid_manager", "grid_manager2", "fire_handler", "landlord", "citizen"])
def test_others_get_no_sensor_pages_and_no_link(four_states, client_as, username):
    client = client_as(username)
    assert client.get("/sensors/").status_code == 403
    assert client.get("/sensors/a-alarm/").status_code == 403
    assert 'href="/sensors/"' not in client.get("/").content.decode()


def test_anonymous_users_are_sent_to_log_in(client, db):
    assert client.get("/sensors/").status_code == 302


def test_the_detail_page(four_states, client_as):
    client = client_as("village_dispatcher")
    case = Case.objects.get(channel="sensor")
    page = client.get("/sensors/a-alarm/")
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["open_case"] == case and [c.pk for c in page.context["cases"]] == [case.pk]
    assert f'<a href="/cases/{case.pk}/">{case.number}</a>' in html
    chart = page.context["chart"]
    assert chart["threshold"] == 15.0 and [p[1] for p in chart["points"]] == [3.0, 30.0]
    assert chart["points"][1][2] is True  # the alarm reading
    local = timezone.localtime(timezone.now() - timedelta(minutes=5))
    assert chart["points"][1][0][:13] == local.strftime("%Y-%m-%d %H")  # Asia/Shanghai wall time
    assert 'id="sensor-chart-data"' in html and [r.message_id for r in page.context["readings"]] == ["m2", "m1"]
    assert client.get("/sensors/nobody/").status_code == 404
    quiet = client.get("/sensors/a-never/")
    assert quiet.context["open_case"] is None and 'id="no-readings"' in quiet.content.decode()


def test_the_chart_keeps_the_last_seven_days(sensor, client_as):
    sensor()
    now = timezone.now()
    actions.record_reading("mh-001", "old", 1, now - timedelta(days=8))
    actions.record_reading("mh-001", "new", 2, now - timedelta(days=6))
    points, cut = queries.chart_readings(Sensor.objects.get(code="mh-001"))
    assert [p[1] for p in points] == [2.0] and not cut


def test_a_sensor_case_links_to_its_sensor(four_states, client_as):
    case = Case.objects.get(channel="sensor")
    html = client_as("village_dispatcher").get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-sensor"' in html and 'href="/sensors/a-alarm/"' in html
    other = Case.objects.exclude(channel="sensor").first()
    if other is not None:
        assert 'id="case-sensor"' not in client_as("city_dispatcher").get(f"/cases/{other.pk}/").content.decode()


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_queries_for_many_sensors(sensor, client_as, django_assert_num_queries):
    client = client_as("town_dispatcher")
    sensor(code="s-0")
    actions.record_reading("s-0", "m", 40)
    _queries(client, "/sensors/")  # warm: per-process reference rows
    few = _queries(client, "/sensors/")
    now = timezone.now()
    for i in range(1, 12):
        sensor(code=f"s-{i}")
        for j in range(3):
            actions.record_reading(f"s-{i}", f"m{j}", 40 if i % 3 == 0 else 1, now - timedelta(hours=j))
    with django_assert_num_queries(few):
        response = client.get("/sensors/")
    assert len(rows(response)) == 12 and tab_counts(response)["alarm"] == 4


def test_one_query_reads_a_page_of_sensors_with_their_state(sensor, user, django_assert_num_queries):
    for i in range(5):
        sensor(code=f"s-{i}")
        actions.record_reading(f"s-{i}", "m", 40 if i == 0 else 1)
    qs = queries.with_state(queries.sensors(user("village_dispatcher"))).order_by("state_rank", "code")
    with django_assert_num_queries(1):
        page = queries.set_states(list(qs))
        seen = [(s.code, s.state, s.last_value, s.area.name, s.matter_item.code) for s in page]
    assert seen[0][:3] == ("s-0", "alarm", 40.0) and {s[1] for s in seen[1:]} == {"normal"}


def test_the_list_is_paginated_and_keeps_its_filters(four_states, client_as, monkeypatch):
    from wangge.sensors import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    client = client_as("village_dispatcher")
    first = client.get("/sensors/", {"kind": "manhole"})
    assert list(rows(first)) == ["a-alarm", "a-never"]
    assert 'href="?kind=manhole&page=2"' in first.content.decode()
    second = client.get("/sensors/", {"kind": "manhole", "page": 2})
    assert list(rows(second)) == ["a-silent", "a-off"]
    assert tab_counts(second)["all"] == 4  # the counts are of every page
    silent = client.get("/sensors/", {"state": "silent", "page": 1}).content.decode()
    assert 'data-state="silent">' in silent and "page=" not in silent.split('id="state-tabs"')[1].split("</nav>")[0]


# One rule for the pages and the API (queries.sensors): command-center staff, by the areas they command.
@pytest.mark.parametrize(
    ("username", "sees"),
    [
        *COMMANDERS_SEE,
        ("grid_manager", None),
        ("grid_manager2", None),
        ("fire_handler", None),
        ("landlord", None),
        ("citizen", None),
    ],
)
def test_the_api_and_the_pages_follow_one_rule(four_states, client_as, api_as, username, sees):
    """None: 403 everywhere (today a department handler read every city sensor and its alarm cases)."""
    api, client = api_as(username), client_as(username)
    listed = api.get("/api/v1/sensors")
    page = client.get("/sensors/")
    if sees is None:
        assert (listed.status_code, page.status_code) == (403, 403)
        for code in ("a-alarm", "b-normal"):
            assert api.get(f"/api/v1/sensors/{code}/readings").status_code == 403
            assert client.get(f"/sensors/{code}/").status_code == 403
        return
    assert listed.status_code == 200 and page.status_code == 200
    assert {s["code"] for s in listed.json()} == set(rows(page)) == sees
    for code in ("a-alarm", "b-normal"):
        expected = 200 if code in sees else 404
        assert api.get(f"/api/v1/sensors/{code}/readings").status_code == expected
        assert client.get(f"/sensors/{code}/").status_code == expected


def test_a_sensor_case_links_its_sensor_only_for_those_who_may_open_it(four_states, client_as):
    from wangge.sensors.models import Reading

    case = Reading.objects.filter(case__isnull=False).first().case
    for username, linked in (("village_dispatcher", True), ("grid_manager", False)):
        page = client_as(username).get(f"/cases/{case.pk}/")
        assert page.status_code == 200 and ("/sensors/a-alarm/" in page.content.decode()) == linked


def test_missing_readings_by_sequence_number_and_by_interval_on_the_pages_and_the_api(sensor, client_as, api_as):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    sensor(code="by-seq")
    for seq in (1, 2, 5, 6):  # 3 and 4 never arrived (the broker's queue overflowed, say)
        actions.record_reading("by-seq", f"s{seq}", 1, now - timedelta(minutes=10 - seq), seq=seq)
    s = sensor(code="by-interval", report_every=600)
    Sensor.objects.filter(pk=s.pk).update(created_at=now - timedelta(days=3))
    for minutes in (5, 15, 95):  # every 10 minutes over the last day: 144 expected, 3 came
        actions.record_reading("by-interval", f"i{minutes}", 1, now - timedelta(minutes=minutes))
    sensor(code="unknown")
    actions.record_reading("unknown", "u1", 1)

    listed = {s["code"]: s["missing_readings"] for s in api_as("village_dispatcher").get("/api/v1/sensors").json()}
    assert listed == {"by-seq": 2, "by-interval": 144 - 1 - 3, "unknown": None}
    page = client_as("village_dispatcher").get("/sensors/").content.decode()
    assert 'data-missing="2"' in page and 'data-missing="140"' in page
    detail = client_as("village_dispatcher").get("/sensors/by-seq/").content.decode()
    assert '<dd id="missing-readings">2 ' in detail
    # a late message fills its gap
    actions.record_reading("by-seq", "s3", 1, now - timedelta(minutes=7), seq=3)
    listed = {s["code"]: s["missing_readings"] for s in api_as("village_dispatcher").get("/api/v1/sensors").json()}
    assert listed["by-seq"] == 1
