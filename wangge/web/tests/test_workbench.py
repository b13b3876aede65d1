"""The workbench (home page): each role sees its panels, counts only its jurisdiction's work, every
count equals the rows of the list it links to, and a panel costs one or two queries."""

import re

import pytest
from django.utils import timezone

from wangge.accounts.models import User
from wangge.accounts.scope import scope_for
from wangge.areas.models import Area
from wangge.cases import actions
from wangge.cases import roles as case_roles
from wangge.cases.models import Case
from wangge.insight import access
from wangge.insight.facts import refresh_dirty
from wangge.web import workbench

VILLAGE_A_GRID = "441900122002001"  # grid_manager's grid, in village_dispatcher's village
VILLAGE_B_GRID = "441900122003001"  # the next village (no village dispatcher): the town commands it


def report(grid=VILLAGE_A_GRID, reporter="grid_manager", **fields):
    area = Area.objects.get(code=grid)
    case, _created = actions.report_case(
        actions.Report(
            description=fields.pop("description", "消防通道被杂物堵塞"),
            channel="grid_manager",
            lat=area.centroid_lat,
            lng=area.centroid_lng,
            **fields,
        ),
        User.objects.get(username=reporter),
    )
    return case


def act(case, username, action, **params):
    case.refresh_from_db()
    return actions.transition(case, User.objects.get(username=username), action, version=case.version, **params)


@pytest.fixture
def work(db):
    return make_work()


def make_work():
    """One case in every state of the chain, in village A unless said otherwise."""
    cases = {
        "reported": report(description="小区门口垃圾满溢，无人清运"),
        "town_reported": report(grid=VILLAGE_B_GRID, description="路面坑洼积水"),
        "registered": report(description="小区门口垃圾满溢"),
        "late": report(description="人行道井盖缺失，有安全隐患"),
        "urgent": report(description="燃气管道疑似泄漏，有异味"),
        "dispatched": report(description="商铺占道经营"),
        "returned": report(description="广告牌松动"),
        "extension": report(description="违章搭建彩钢棚"),
        "verifying": report(description="消防通道被杂物堵塞"),
        "rework": report(description="楼道堆放杂物"),
    }
    for key in ("registered", "late"):
        act(cases[key], "village_dispatcher", "register")
    Case.objects.filter(pk=cases["late"].pk).update(is_overdue=True, dispatch_overdue_at=timezone.now())
    Case.objects.filter(pk=cases["reported"].pk).update(duplicate_of=cases["registered"])
    Case.objects.filter(pk=cases["urgent"].pk).update(severity="urgent")  # a grid manager may not mark it
    for key in ("dispatched", "returned", "extension", "verifying", "rework"):
        act(cases[key], "village_dispatcher", "dispatch", departments=["fire"])
    act(cases["returned"], "fire_handler", "return", reason="不属于消防")
    for key in ("extension", "verifying", "rework"):
        act(cases[key], "fire_handler", "accept")
    act(cases["extension"], "fire_handler", "request_extension", hours=24, reason="需要协调")
    for key in ("verifying", "rework"):
        act(cases[key], "fire_handler", "feedback", note="已清理")
    act(cases["rework"], "grid_manager", "verify_fail", note="仍有杂物")
    refresh_dirty()  # the worker's daily figures (the leader's month)
    return cases


def tiles_of(username):
    user = User.objects.get(username=username)
    return {p.key: {t.key: t for t in p.tiles} for p in workbench.panels_for(user)}


def listed(client, url) -> int:
    """How many rows the list page behind a tile shows (all pages)."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    if "cl" in context:  # an admin changelist
        return context["cl"].result_count
    if "assignments" in context:
        return len(context["assignments"])
    if "total" in context:  # the inspection task list
        return context["total"]
    return context["page"].paginator.count


EXPECTED = {
    # village A's dispatcher: its own level's cases
    "village_dispatcher": {
        "dispatcher": {
            "register": 2,
            "dispatch": 3,  # a case every department returned is to dispatch again
            "dispatch_overdue": 1,
            "returns": 1,
            "extensions": 1,
            "duplicates": 1,
        }
    },
    # the town's: only village B's case waits at the town's level
    "town_dispatcher": {
        "dispatcher": {
            "register": 1,
            "dispatch": 0,
            "dispatch_overdue": 0,
            "returns": 0,
            "extensions": 0,
            "duplicates": 0,
        }
    },
    "liaobu_dispatcher": {
        "dispatcher": {
            "register": 0,
            "dispatch": 0,
            "dispatch_overdue": 0,
            "returns": 0,
            "extensions": 0,
            "duplicates": 0,
        }
    },
    "fire_handler": {"department": {"pending": 1, "due_today": 0, "overdue": 0, "rework": 1}},
    "grid_manager": {"verify": {"verify": 1}},
    "grid_manager2": {"verify": {"verify": 0}},
    "leader": {"leader": {"urgent": 1, "overdue": 1}},
}


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_role_sees_its_panels_with_its_counts_and_each_count_is_its_list(work, client_as, username):
    tiles = tiles_of(username)
    client = client_as(username)
    for panel, expected in EXPECTED[username].items():
        got = {key: tile.count for key, tile in tiles[panel].items()}
        assert got == expected, panel
    for panel in tiles.values():
        for tile in panel.values():
            assert listed(client, tile.url) == tile.count, tile.url


def test_panels_follow_the_roles(db):
    kinds = {u: set(tiles_of(u)) for u in ("village_dispatcher", "fire_handler", "grid_manager", "leader", "admin")}
    assert kinds["village_dispatcher"] == {"dispatcher", "summons"}
    assert kinds["fire_handler"] == {"department", "summons_arrival"}
    assert kinds["grid_manager"] == {"verify", "inspections", "outbox"}
    assert kinds["leader"] == {"leader", "figures-441900122"}
    assert kinds["admin"] == {"admin"}


def test_a_user_with_several_roles_sees_the_panels_of_each(db):
    from wangge.accounts.models import Membership, Role

    user = User.objects.get(username="village_dispatcher")
    Membership.objects.create(user=user, role=Role.GRID_MANAGER, area=Area.objects.get(code=VILLAGE_A_GRID))
    user = User.objects.get(pk=user.pk)
    assert {p.key for p in workbench.panels_for(user)} == {"dispatcher", "summons", "verify", "inspections", "outbox"}


def test_the_home_page_shows_the_panels_and_the_roles(work, client_as):
    page = client_as("village_dispatcher").get("/").content.decode()
    assert "待立案" in page and 'data-tile="register"' in page
    assert re.search(r'data-tile="register"><b class="count">2<', page)
    assert "我的角色" in page and "村(社区)调度员" in page  # the roles, still there
    fragment = client_as("fire_handler").get("/workbench/panels/").content.decode()
    assert 'data-panel="department"' in fragment and "<html" not in fragment
    assert "?show=pending" in fragment


def test_citizens_and_landlords_keep_their_page(db, client_as):
    for username in ("citizen", "landlord"):
        response = client_as(username).get("/")
        assert response.status_code == 200
        assert not response.context.get("panels") and 'id="workbench"' not in response.content.decode()


def test_the_queue_filters_behind_the_tiles(work, client_as):
    client = client_as("village_dispatcher")
    late = client.get("/cases/?status=open&dispatch_overdue=1&mine=1").context["page"].object_list
    assert [c.pk for c in late] == [work["late"].pk]
    asked = client.get("/cases/?status=handling&extensions=1").context["page"].object_list
    assert [c.pk for c in asked] == [work["extension"].pk]
    urgent = client.get("/cases/?status=open&severity=urgent").context["page"].object_list
    assert [c.pk for c in urgent] == [work["urgent"].pk]
    assert client.get("/cases/?severity=bogus").status_code == 200  # an unknown value filters nothing
    # The town dispatcher sees village A's cases, but they wait at the village's level.
    town = client_as("town_dispatcher")
    assert town.get("/cases/?status=reported").context["page"].paginator.count == 3
    assert town.get("/cases/?status=reported&mine=1").context["page"].paginator.count == 1
    rework = client_as("fire_handler").get("/cases/department/?show=rework").context["assignments"]
    assert [a.case_id for a in rework] == [work["rework"].pk]


def test_the_export_follows_the_new_filters(work, user):
    from wangge.cases.transfer import CaseExport

    rows = CaseExport().queryset(user("village_dispatcher"), {"status": "open", "duplicates": "1"})
    assert [c.pk for c in rows] == [work["reported"].pk]


def _warm(user):
    """What every request reads once about its user (memberships, scope, command areas)."""
    case_roles.memberships_of(user)
    scope_for(user)
    access.command_areas(user)


PANELS = [
    ("village_dispatcher", workbench.dispatcher),
    ("leader", workbench.leader),
    ("fire_handler", workbench.department),
    ("village_dispatcher", workbench.open_summonses),
    ("fire_handler", workbench.summonses_to_report),
    ("grid_manager", workbench.to_verify),
    ("grid_manager", workbench.inspections_today),
    ("admin", workbench.administrator),
]


@pytest.mark.parametrize(("username", "panel"), PANELS, ids=[p.__name__ for _u, p in PANELS])
def test_a_panel_is_one_or_two_queries(work, django_assert_max_num_queries, username, panel):
    user = User.objects.get(username=username)
    _warm(user)
    with django_assert_max_num_queries(2):
        panel(user)


def test_month_figures_are_one_query_per_area(work, django_assert_max_num_queries):
    user = User.objects.get(username="leader")
    _warm(user)
    with django_assert_max_num_queries(1):
        (panel,) = workbench.month_figures(user)
    assert panel.tiles[0].url.startswith("/cases/?area=441900122")


def test_the_administrator_sees_what_failed_and_each_count_is_its_list(work, client_as, user):
    from wangge.jobs.models import Job
    from wangge.notify.models import Notification

    admin = user("admin")
    Job.objects.create(kind="import", register="people", owner=admin, state="failed", message="第 3 行:身份证号有误")
    Job.objects.create(kind="export", register="cases", owner=admin, state="done")
    Notification.objects.create(channel="sms", subject="超期提醒", status="failed", last_error="timeout")
    Notification.objects.create(channel="inapp", recipient=admin, subject="新案件", status="sent")
    tiles = tiles_of("admin")["admin"]
    assert tiles["jobs"].count == Job.objects.filter(state="failed").count() >= 1
    assert tiles["notifications"].count == Notification.objects.filter(status="failed").count() >= 1
    assert "sensors" in tiles  # the sensors list's silent tab (the test city's sensors have no readings)
    client = client_as("admin")
    for tile in tiles.values():
        assert listed(client, tile.url) == tile.count, tile.url
    page = client.get("/").content.decode()
    assert "失败的后台任务" in page and "第 3 行" in page


@pytest.mark.parametrize("username", ["village_dispatcher", "fire_handler", "grid_manager", "leader", "admin"])
def test_no_english_on_the_workbench(work, username):
    from django.utils import translation

    with translation.override("zh-hans"):
        for panel in workbench.panels_for(User.objects.get(username=username)):
            words = [str(panel.title), str(panel.empty)] + [str(t.label) for t in panel.tiles]
            words += [r.title for r in panel.rows if not r.title[:1].isdigit()]
            assert not [w for w in words if re.search("[A-Za-z]", w)], panel.key


def test_the_workbench_listens_by_polling_and_takes_no_held_stream(client_as, settings):
    """Home pages are many: they read the live events in polling mode (?poll=1), so the command
    center keeps its held streams; a department handler gets its department's cases' events."""
    from wangge.insight import live
    from wangge.insight import views as insight_views

    settings.LIVE_BROKER = "memory"
    settings.LIVE_STREAM_SECONDS = 30
    live.broker.cache_clear()
    try:
        broker = live.broker()
        fire = User.objects.get(username="fire_handler").memberships.get().department_id
        broker.publish({"type": "case.changed", "id": 7, "area_path": "441900/441900111/", "departments": [fire]})
        broker.publish({"type": "case.changed", "id": 8, "area_path": "441900/441900111/", "departments": []})
        after = str(int(broker.head()) - 2)
        page = client_as("fire_handler").get("/").content.decode()
        assert 'data-live="/command/live/?poll=1"' in page
        response = client_as("fire_handler").get("/command/live/?poll=1", headers={"Last-Event-ID": after})
        body = b"".join(response.streaming_content).decode()  # at once: no slot taken, nothing held
        assert body.startswith(f"retry: {settings.LIVE_POLL_RETRY_MS}")
        assert '"id": 7' in body and '"id": 8' not in body
        held = [insight_views._stream_slots.acquire(blocking=False) for _ in range(settings.LIVE_MAX_STREAMS)]
        assert all(held)  # every slot was still free
        for _ in held:
            insight_views._stream_slots.release()
    finally:
        live.broker.cache_clear()


def test_todays_inspections_are_the_task_lists_due_today_filter(client_as, user):
    from datetime import timedelta

    from wangge.patrol import actions as patrol_actions
    from wangge.patrol.models import InspectionTask
    from wangge.registry.tests.conftest import new_building

    for name in ("一号楼", "二号楼", "三号楼"):
        new_building(user("admin"), VILLAGE_A_GRID, name)
    new_building(user("admin"), VILLAGE_B_GRID, "邻村楼")
    patrol_actions.plan_inspections()
    today = timezone.localdate()
    mine = InspectionTask.objects.filter(area_path__startswith=Area.objects.get(code=VILLAGE_A_GRID).path)
    first, second, third = mine.order_by("pk")[:3]
    InspectionTask.objects.filter(pk=first.pk).update(due_date=today - timedelta(days=2))  # late: still today's
    InspectionTask.objects.filter(pk=second.pk).update(due_date=today)
    InspectionTask.objects.filter(pk=third.pk).update(due_date=today + timedelta(days=3))
    InspectionTask.objects.exclude(pk__in=[first.pk, second.pk, third.pk]).update(due_date=today)  # the next village
    panel = workbench.inspections_today(user("grid_manager"))
    assert panel.tiles[0].count == 2
    assert [row.alert for row in panel.rows] == [True, False]  # the late one first, marked
    assert listed(client_as("grid_manager"), panel.tiles[0].url) == 2
    assert workbench.inspections_today(user("grid_manager2")).tiles[0].count == 1
