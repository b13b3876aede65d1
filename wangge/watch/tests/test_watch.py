"""Watch lists: only with the permission; screening (exact by ID hash, fuzzy by pinyin + birth
date) as a background job with progress; hits per jurisdiction; review logged, one decision wins."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from wangge.accounts.actions import add_membership, create_user
from wangge.accounts.models import Role, User
from wangge.areas.models import Area
from wangge.history.models import ChangeRecord
from wangge.jobs.models import Job, Kind, State
from wangge.registry import actions as registry_actions
from wangge.registry.validators import id_check_char
from wangge.watch import actions
from wangge.watch.models import HitState, Match, WatchHit, WatchList

pytestmark = pytest.mark.django_db

GRID_A = "441900122002001"


@pytest.fixture(autouse=True)
def jobs_root(settings, tmp_path):
    settings.JOBS_ROOT = tmp_path / "jobs"


def make_id(seq, born, region="441900"):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def watcher(username, area_code, role=Role.TOWN_DISPATCHER, permitted=True):
    user = create_user(username, "x" * 12)
    add_membership(user, role, area=Area.objects.get(code=area_code))
    if permitted:
        user.user_permissions.add(Permission.objects.get(codename="use_watchlists"))
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def register():
    admin = User.objects.get(username="admin")
    born = date(1985, 3, 9)
    zhang = registry_actions.register_person(
        admin, {"name": "张伟", "person_type": "floating", "id_number": make_id(101, born), "area_code": GRID_A}
    )
    exact = registry_actions.register_person(
        admin, {"name": "李娜", "person_type": "floating", "id_number": make_id(203, born), "area_code": GRID_A}
    )
    return {"zhang": zhang, "exact": exact, "born": born}


@pytest.fixture
def watch_list(register):
    admin = User.objects.get(username="admin")
    wl = WatchList.objects.create(name="重点关注人员")
    actions.add_entries(
        wl,
        [
            {"name": "章玮", "birth_date": register["born"]},  # same sound, same birth date: fuzzy
            {"name": "章玮", "birth_date": date(1985, 3, 10)},  # another birth date: no hit
            {"name": "王伟", "birth_date": register["born"]},  # another sound: no hit
            {"name": "某某", "id_number": make_id(203, register["born"]), "birth_date": register["born"]},  # exact
        ],
        acting_user=admin,
    )
    return wl


def test_name_key_is_the_sound():
    assert actions.name_key("张伟") == actions.name_key("章 玮") == "zhang wei"
    assert actions.name_key("王伟") != actions.name_key("张伟")


def test_screening_job_finds_exact_and_fuzzy_hits_with_progress(
    watch_list, register, huey_immediate, django_capture_on_commit_callbacks
):
    user, client = watcher("watcher", "441900122")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("watch:screen"), {"watch_list": watch_list.pk})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    assert job.kind == Kind.SCREENING and job.state == State.DONE and job.percent == 100
    assert job.result == {"entries": 4, "exact": 1, "fuzzy": 1, "new": 2}
    hits = {(h.entry.name, h.person_id, h.match) for h in WatchHit.objects.select_related("entry")}
    assert hits == {("章玮", register["zhang"].pk, Match.FUZZY), ("某某", register["exact"].pk, Match.EXACT)}
    # Again: nothing new, nothing doubled.
    assert actions.screen([watch_list])["new"] == 0 and WatchHit.objects.count() == 2


def test_hits_only_with_the_permission_and_in_the_jurisdiction(watch_list, register, client_as):
    actions.screen([watch_list])
    _user, town = watcher("watcher", "441900122")
    _user, other_town = watcher("watcher2", "441900111")
    _user, unpermitted = watcher("nosy", "441900122", permitted=False)
    page = town.get(reverse("watch:hits")).content.decode()
    assert "章玮" in page and "张伟" in page and make_id(203, register["born"]) not in page
    assert "重点关注人员" in town.get(reverse("watch:index")).content.decode()
    assert "章玮" not in other_town.get(reverse("watch:hits")).content.decode()
    for client in (unpermitted, client_as("town_dispatcher"), client_as("grid_manager")):
        assert client.get(reverse("watch:index")).status_code == 403
        assert client.get(reverse("watch:hits")).status_code == 403
        assert client.get(reverse("watch:list", args=[watch_list.pk])).status_code == 403
        assert "/watch/" not in client.get(reverse("home")).content.decode()
    assert "/watch/" in town.get(reverse("home")).content.decode()
    # The person's page history says nothing about the watch list.
    person_page = client_as("town_dispatcher").get(reverse("registry:person_detail", args=[register["zhang"].pk]))
    assert "章玮" not in person_page.content.decode()


def test_review_is_logged_and_only_one_decision_wins(watch_list, register):
    actions.screen([watch_list])
    hit = WatchHit.objects.get(match=Match.FUZZY)
    user, client = watcher("watcher", "441900122")
    _other, outsider = watcher("watcher2", "441900111")
    assert outsider.post(reverse("watch:review", args=[hit.pk]), {"decision": "confirmed"}).status_code == 404
    response = client.post(reverse("watch:review", args=[hit.pk]), {"decision": "dismissed", "note": ""})
    hit.refresh_from_db()
    assert response.status_code == 302 and hit.state == HitState.OPEN  # a dismissal needs a reason
    client.post(reverse("watch:review", args=[hit.pk]), {"decision": "dismissed", "note": "同音不同人，出生地不同"})
    hit.refresh_from_db()
    assert (hit.state, hit.reviewed_by, hit.review_note) == (HitState.DISMISSED, user, "同音不同人，出生地不同")
    record = ChangeRecord.objects.filter(object_id=str(hit.pk), user_name="watcher").get()
    assert record.before["state"] == "open" and record.after["state"] == "dismissed"
    with pytest.raises(actions.AlreadyReviewed):
        actions.review_hit(WatchHit.objects.get(pk=hit.pk, state="dismissed"), user, HitState.CONFIRMED)
    response = client.post(reverse("watch:review", args=[hit.pk]), {"decision": "confirmed"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and WatchHit.objects.get(pk=hit.pk).state == HitState.DISMISSED


def test_entries_import_and_people_import_queue_a_screening(watch_list, register, django_capture_on_commit_callbacks):
    _user, client = watcher("watcher", "441900122", role=Role.TOWN_DISPATCHER)
    born = register["born"]
    content = (
        "名单,姓名,身份证号,出生日期\n"
        f"重点关注人员,甲,{make_id(301, born)},\n"
        f"重点关注人员,乙,,1990-01-01\n"
        f"不存在的名单,丙,,1990-01-01\n"
        f"重点关注人员,丁,{make_id(302, born)},2000-01-01\n"
        f"重点关注人员,戊,,\n"
    ).encode()
    client.post(reverse("jobs:import", args=["watchlist"]), {"file": SimpleUploadedFile("w.csv", content)})
    checked = Job.objects.latest("pk")
    errors = {(e["line"], e["column"]) for e in checked.result["errors"]}
    assert errors == {(4, "名单"), (5, "出生日期"), (6, "出生日期")}
    good = "\n".join(content.decode().splitlines()[:3]).encode()
    client.post(reverse("jobs:import", args=["watchlist"]), {"file": SimpleUploadedFile("w.csv", good)})
    checked = Job.objects.latest("pk")
    assert checked.result["error_count"] == 0, checked.result["errors"]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    assert watch_list.entries.filter(name__in=["甲", "乙"]).count() == 2
    assert Job.objects.latest("pk").kind == Kind.SCREENING  # queued for the worker

    # A people import by a grid manager (no watch permission) queues one too; its page shows no figures.
    grid = client_as_grid_manager()
    rows = f"姓名,人员类型,身份证号,区域代码\n新人,流动人口,{make_id(401, born)},{GRID_A}\n".encode()
    grid.post(reverse("jobs:import", args=["people"]), {"file": SimpleUploadedFile("p.csv", rows)})
    checked = Job.objects.latest("pk")
    grid.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "0"})
    screening = Job.objects.latest("pk")
    assert screening.kind == Kind.SCREENING and screening.owner.username == "grid_manager"
    from wangge.jobs.actions import run

    run(screening.pk)
    screening.refresh_from_db()
    assert screening.state == State.DONE and screening.result == {} and "命中" not in screening.message


def client_as_grid_manager():
    client = Client()
    client.force_login(User.objects.get(username="grid_manager"))
    return client
