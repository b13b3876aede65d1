"""No write reaches outside the writer's jurisdiction (issue 13, item 1), for every app but cases:
each write endpoint of the registers, field work, sensors, watch lists, jobs, notifications and the
command center is probed with ids of another jurisdiction (grid_manager vs grid_manager2: two
neighbouring villages; town_dispatcher vs liaobu_dispatcher: two neighbouring towns; landlord vs
another landlord). Each must answer 404 (or 400/403 naming the field) and write nothing: every row
of the tables a write could touch is compared before and after."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from wangge.accounts.models import Membership, Role, User
from wangge.cases.actions import Report, report_case
from wangge.cases.models import CasePhoto
from wangge.jobs.models import Job, Kind, State
from wangge.notify.actions import notify
from wangge.registry import actions
from wangge.registry.models import Person, RentalHouse
from wangge.registry.tests.conftest import GRID_A, GRID_B, ID_A, ID_B, admin, new_building  # noqa: F401
from wangge.registry.tests.conftest import point_in as _point_in
from wangge.watch.models import WatchEntry, WatchHit, WatchList

pytestmark = pytest.mark.django_db

ID_C = "440524188001010030"  # a third valid number (check digit per GB 11643)

# Every table a write endpoint outside cases could change (cases' own rows too: the command
# center and inspections write through cases' actions).
WATCHED = [
    "registry.StandardAddress", "registry.Building", "registry.Room", "registry.Person", "registry.Tenancy",
    "registry.RentalHouse", "registry.Place", "patrol.Inspection", "patrol.InspectionAnswer",
    "patrol.InspectionTask", "patrol.ResidentRegistration", "cases.Case", "cases.CaseEvent", "cases.CasePhoto",
    "cases.Assignment", "jobs.Job", "notify.Notification", "watch.WatchHit", "sensors.Reading",
    "registry.TenantDeclaration", "privacy.PersonalDataAccess", "history.ChangeRecord",
]  # fmt: skip


# Probes that name a number registered out of reach: refused, and logged as an exact search of the prober's.
DUPLICATE_CHECKS = {"api register a foreign person's ID again", "api field registration of a foreign person's ID"}


def fingerprint(own_notifications_of=None):
    """Every row of the watched tables; with a username, leaving out that user's own notifications
    (marking one's own notifications read is the write "mark all read" is for)."""
    rows = {label: list(apps.get_model(label).objects.order_by("pk").values()) for label in WATCHED}
    if own_notifications_of:
        user_id = User.objects.get(username=own_notifications_of).pk
        rows["notify.Notification"] = [n for n in rows["notify.Notification"] if n["recipient_id"] != user_id]
    return rows


class World:
    """Two of everything: ours (GRID_A, houjie town, `landlord`) and theirs (GRID_B / liaobu, `landlord2`)."""

    def __init__(self, maker):
        self.ours = new_building(maker, GRID_A, "我方楼")
        self.theirs = new_building(maker, GRID_B, "邻村楼")
        self.our_room = self.ours.rooms.get(number="101")
        self.their_room = self.theirs.rooms.get(number="101")
        self.our_person = actions.register_person(
            maker, {"name": "本村人", "person_type": "registered", "id_number": ID_A, "room": self.our_room.pk}
        )
        self.their_person = actions.register_person(
            maker, {"name": "邻村人", "person_type": "registered", "id_number": ID_B, "room": self.their_room.pk}
        )
        landlord2 = User.objects.create_user("landlord2", password="wangge-demo")
        Membership.objects.create(user=landlord2, role=Role.LANDLORD)
        self.our_rental = actions.save_rental(maker, {"building": self.ours.code, "landlord_user": "landlord"})
        self.their_rental = actions.save_rental(maker, {"building": self.theirs.code, "landlord_user": "landlord2"})
        self.our_place = actions.save_place(
            maker, {"name": "本村小店", "place_type": "shop", "address": self.ours.address.code}
        )
        self.their_place = actions.save_place(
            maker, {"name": "邻村小店", "place_type": "shop", "address": self.theirs.address.code}
        )
        self.their_photo = CasePhoto.objects.create(
            token="probe-photo-theirs", image="x.jpg", uploaded_by=User.objects.get(username="grid_manager2")
        )
        self.our_case = self._case("我镇的案件", GRID_A)
        self.their_case = self._case("寮步的案件", self._liaobu_leaf())
        self.their_job = Job.objects.create(
            kind=Kind.IMPORT, register="people", owner=User.objects.get(username="grid_manager2"),
            state=State.DONE, params={"dry_run": True}, result={"total": 1},
        )  # fmt: skip
        [self.their_notification] = [
            n for n in notify(User.objects.get(username="grid_manager2"), "邻村的通知") if n.channel == "inapp"
        ]
        watch_list = WatchList.objects.create(name="探测名单")
        entry = WatchEntry.objects.create(watch_list=watch_list, name="邻村人", id_number_hash="probe")
        self.their_hit = WatchHit.objects.create(
            entry=entry, person=self.their_person, area_path=self.their_person.area_path, match="exact"
        )
        # Our landlord declared the person of the next village: a declaration our grid staff verify.
        self.pending = actions.declare_tenant(
            User.objects.get(username="landlord"), self.our_rental,
            {"room": self.our_room.pk, "name": "房客乙", "person_type": "registered", "id_number": ID_B},
        )  # fmt: skip

    @staticmethod
    def _liaobu_leaf():
        from wangge.areas.models import Area

        return Area.objects.filter(path__startswith=Area.objects.get(code="441900111").path, children__isnull=True)[
            0
        ].code

    @staticmethod
    def _case(text, area_code):
        lat, lng = _point_in(area_code)
        report = Report(description=text, channel="hotline", lat=lat, lng=lng)
        case, _created = report_case(report, User.objects.get(username="admin"))
        return case


@pytest.fixture
def world(admin):  # noqa: F811
    return World(admin)


def _json(client, method, path, body=None):
    from wangge.accounts.actions import issue_token

    token = issue_token(User.objects.get(username=client))
    return getattr(__import__("django.test", fromlist=["Client"]).Client(), method)(
        path, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


def _page(user, path, data):
    from django.test import Client

    c = Client()
    c.force_login(User.objects.get(username=user))
    return c.post(path, data)


def _inspection(w, target_kind, target_id, photo_id=None):
    now = timezone.now()
    answers = [{"item": code, "value": True} for code in ("exit_clear", "extinguisher", "smoke_alarm", "wiring")]
    answers += [{"item": "ebike_indoor", "value": False}, {"item": "tenants_declared", "value": True},
                {"item": "tenant_count", "value": 2}]  # fmt: skip
    if photo_id is not None:
        answers[0] = {"item": "exit_clear", "value": False, "resolution": "corrected", "photo_id": photo_id}
    return {
        "target_kind": target_kind, "target_id": target_id, "checklist": "rental_fire", "version": 1,
        "answers": answers, "started_at": (now - timedelta(minutes=5)).isoformat(), "finished_at": now.isoformat(),
    }  # fmt: skip


A = "/api/v1/registry"
GM, GM2, TOWN = "grid_manager", "grid_manager2", "town_dispatcher"

# (name, method, who, path(w), body(w)): each must be refused and write nothing.
PROBES = [
    # --- registry API ---
    ("api update foreign address", "put", GM, lambda w: f"{A}/addresses/{w.theirs.address.pk}",
     lambda w: {"road": "改", "lat": w.ours.address.lat, "lng": w.ours.address.lng}),
    ("api new address at a foreign point", "post", GM, lambda w: f"{A}/addresses",
     lambda w: {"road": "越界路", "lat": w.theirs.address.lat, "lng": w.theirs.address.lng}),
    ("api new building on a foreign address code", "post", GM, lambda w: f"{A}/buildings",
     lambda w: {"name": "x", "address": w.theirs.address.code, "use": "rental", "floors": 2}),
    ("api new building on a foreign address id", "post", GM, lambda w: f"{A}/buildings",
     lambda w: {"name": "x", "address": str(w.theirs.address.pk), "use": "rental", "floors": 2}),
    ("api update foreign building", "put", GM, lambda w: f"{A}/buildings/{w.theirs.pk}",
     lambda w: {"name": "x", "address": w.ours.address.code, "use": "rental", "floors": 2}),
    ("api edit a foreign room through our building", "put", GM,
     lambda w: f"{A}/buildings/{w.ours.pk}/rooms/{w.their_room.pk}", lambda w: {"number": "999"}),
    ("api add a room to a foreign building", "post", GM, lambda w: f"{A}/buildings/{w.theirs.pk}/rooms",
     lambda w: {"number": "999"}),
    ("api register a person into a foreign room", "post", GM, lambda w: f"{A}/people",
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_C, "room": w.their_room.pk}),
    ("api register a person in a foreign area", "post", GM, lambda w: f"{A}/people",
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_C, "area_code": GRID_B}),
    ("api register a foreign person's ID again", "post", GM, lambda w: f"{A}/people",
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_B, "room": w.our_room.pk}),
    ("api update foreign person", "put", GM, lambda w: f"{A}/people/{w.their_person.pk}",
     lambda w: {"name": "改名", "person_type": "registered"}),
    ("api move our person into a foreign room", "post", GM, lambda w: f"{A}/people/{w.our_person.pk}/move-in",
     lambda w: {"room": w.their_room.pk}),
    ("api move a foreign person into our room", "post", GM, lambda w: f"{A}/people/{w.their_person.pk}/move-in",
     lambda w: {"room": w.our_room.pk}),
    ("api move a foreign person out", "post", GM, lambda w: f"{A}/people/{w.their_person.pk}/move-out",
     lambda w: {}),
    ("api new rental on a foreign building", "post", GM, lambda w: f"{A}/rentals",
     lambda w: {"building": w.theirs.code, "landlord_name": "x"}),
    ("api new rental on a foreign building id", "post", GM, lambda w: f"{A}/rentals",
     lambda w: {"building": str(w.theirs.pk), "landlord_name": "x"}),
    ("api rental of our building with foreign rooms", "put", GM, lambda w: f"{A}/rentals/{w.our_rental.pk}",
     lambda w: {"landlord_name": "x", "rooms": [w.their_room.pk]}),
    ("api update foreign rental", "put", GM, lambda w: f"{A}/rentals/{w.their_rental.pk}",
     lambda w: {"landlord_name": "x"}),
    ("api new place on a foreign address", "post", GM, lambda w: f"{A}/places",
     lambda w: {"name": "x", "place_type": "shop", "address": w.theirs.address.code}),
    ("api new place in a foreign building", "post", GM, lambda w: f"{A}/places",
     lambda w: {"name": "x", "place_type": "shop", "address": w.ours.address.code, "building": w.theirs.code}),
    ("api update foreign place", "put", GM, lambda w: f"{A}/places/{w.their_place.pk}",
     lambda w: {"name": "x", "place_type": "shop", "address": w.ours.address.code}),
    ("api declare a tenant of another landlord's rental", "post", "landlord",
     lambda w: f"{A}/my-rentals/{w.their_rental.pk}/tenants",
     lambda w: {"room": w.their_room.pk, "name": "x", "id_number": ID_C}),
    ("api declare a tenant into a room outside the rental", "post", "landlord",
     lambda w: f"{A}/my-rentals/{w.our_rental.pk}/tenants",
     lambda w: {"room": w.their_room.pk, "name": "x", "id_number": ID_C}),
    ("api move out a tenant of another landlord's rental", "post", "landlord",
     lambda w: f"{A}/my-rentals/{w.their_rental.pk}/move-outs",
     lambda w: {"tenancy": w.their_person.tenancies.get().pk}),
    ("api move out a foreign tenant through our rental", "post", "landlord",
     lambda w: f"{A}/my-rentals/{w.our_rental.pk}/move-outs",
     lambda w: {"tenancy": w.their_person.tenancies.get().pk}),
    # --- field work API ---
    ("api inspect a foreign rental", "post", GM, lambda w: "/api/v1/patrol/inspections",
     lambda w: _inspection(w, "rental", w.their_rental.pk)),
    ("api inspect with another worker's photo", "post", GM, lambda w: "/api/v1/patrol/inspections",
     lambda w: _inspection(w, "rental", w.our_rental.pk, photo_id=w.their_photo.pk)),
    ("api field registration into a foreign room", "post", GM, lambda w: "/api/v1/patrol/residents",
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_C, "room": w.their_room.pk}),
    ("api field registration of a foreign person's ID", "post", GM, lambda w: "/api/v1/patrol/residents",
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_B, "room": w.our_room.pk}),
    # --- sensors, notifications ---
    ("api post a sensor reading without the gateway's right", "post", TOWN,
     lambda w: "/api/v1/sensors/ANY/readings", lambda w: {"id": "m1", "value": 99}),
    ("api mark another user's notification read", "post", GM, lambda w: "/api/v1/notifications/read",
     lambda w: {"ids": [w.their_notification.pk]}),
    ("api confirm a declaration of another village", "post", GM2,
     lambda w: f"{A}/declarations/{w.pending.pk}/review", lambda w: {"decision": "confirm"}),
    ("api a landlord confirms their own declaration", "post", "landlord",
     lambda w: f"{A}/declarations/{w.pending.pk}/review", lambda w: {"decision": "confirm"}),
    ("api reveal a foreign person's ID number", "post", GM, lambda w: "/api/v1/privacy/reveal",
     lambda w: {"type": "registry.person", "id": w.their_person.pk, "field": "id_number", "reason": "x"}),
]  # fmt: skip

PAGE_PROBES = [
    # --- registry pages ---
    ("page edit foreign address", GM, lambda w: reverse("registry:address_edit", args=[w.theirs.address.pk]),
     lambda w: {"road": "改", "lat": w.ours.address.lat, "lng": w.ours.address.lng}),
    ("page new address at a foreign point", GM, lambda w: reverse("registry:address_new"),
     lambda w: {"road": "越界路", "lat": w.theirs.address.lat, "lng": w.theirs.address.lng}),
    ("page new building on a foreign address", GM, lambda w: reverse("registry:building_new"),
     lambda w: {"name": "x", "address": w.theirs.address.code, "use": "rental", "floors": 2, "risk_class": 1}),
    ("page edit foreign building", GM, lambda w: reverse("registry:building_edit", args=[w.theirs.pk]),
     lambda w: {"name": "x", "address": w.ours.address.code, "use": "rental", "floors": 2, "risk_class": 1}),
    ("page add a room to a foreign building", GM, lambda w: reverse("registry:room_add", args=[w.theirs.pk]),
     lambda w: {"number": "999"}),
    ("page edit a foreign room through our building", GM,
     lambda w: reverse("registry:room_edit", args=[w.ours.pk, w.their_room.pk]), lambda w: {"number": "999"}),
    ("page new person in a foreign room", GM, lambda w: reverse("registry:person_new"),
     lambda w: {"name": "x", "person_type": "registered", "id_number": ID_C, "room": w.their_room.pk}),
    ("page edit foreign person", GM, lambda w: reverse("registry:person_edit", args=[w.their_person.pk]),
     lambda w: {"name": "改名", "person_type": "registered"}),
    ("page move a foreign person out", GM, lambda w: reverse("registry:person_move", args=[w.their_person.pk]),
     lambda w: {"move": "out"}),
    ("page move our person into a foreign room", GM,
     lambda w: reverse("registry:person_move", args=[w.our_person.pk]),
     lambda w: {"building": w.theirs.code, "room": "101", "version": w.our_person.version}),
    ("page new rental on a foreign building", GM, lambda w: reverse("registry:rental_new"),
     lambda w: {"building": w.theirs.code, "landlord_name": "x", "status": "active"}),
    ("page edit foreign rental", GM, lambda w: reverse("registry:rental_edit", args=[w.their_rental.pk]),
     lambda w: {"building": w.theirs.code, "landlord_name": "x", "status": "active"}),
    ("page new place on a foreign address", GM, lambda w: reverse("registry:place_new"),
     lambda w: {"name": "x", "place_type": "shop", "address": w.theirs.address.code, "licence_status": "none"}),
    ("page edit foreign place", GM, lambda w: reverse("registry:place_edit", args=[w.their_place.pk]),
     lambda w: {"name": "x", "place_type": "shop", "address": w.ours.address.code, "licence_status": "none"}),
    ("page declare a tenant of another landlord's rental", "landlord",
     lambda w: reverse("registry:my_rental_tenant", args=[w.their_rental.pk]),
     lambda w: {"room": w.their_room.pk, "name": "x", "person_type": "floating", "id_number": ID_C}),
    ("page move out a tenant of another landlord's rental", "landlord",
     lambda w: reverse("registry:my_rental_move_out", args=[w.their_rental.pk]),
     lambda w: {"tenancy": w.their_person.tenancies.get().pk}),
    ("page move out a foreign tenant through our rental", "landlord",
     lambda w: reverse("registry:my_rental_move_out", args=[w.our_rental.pk]),
     lambda w: {"tenancy": w.their_person.tenancies.get().pk}),
    # --- jobs, watch lists, notifications, command center ---
    ("page confirm a declaration of another village", GM2,
     lambda w: reverse("registry:declaration_review", args=[w.our_rental.pk, w.pending.pk]),
     lambda w: {"decision": "confirm"}),
    ("page screen against a list that is not one", "watcher", lambda w: reverse("watch:screen"),
     lambda w: {"watch_list": "abc"}),
    ("page confirm another user's import", GM, lambda w: reverse("jobs:confirm", args=[w.their_job.pk]),
     lambda w: {}),
    ("page review a watch hit outside the jurisdiction", "watcher",
     lambda w: reverse("watch:review", args=[w.their_hit.pk]), lambda w: {"decision": "confirmed", "note": "x"}),
    ("page mark all read (only one's own)", GM, lambda w: reverse("notify:mark_all_read"), lambda w: {}),
    ("page dispatch a case of another town", TOWN,
     lambda w: reverse("command_case_act", args=[w.their_case.pk]),
     lambda w: {"action": "escalate", "note": "x", "version": w.their_case.version}),
    ("page merge our case into one of another town", TOWN,
     lambda w: reverse("command_case_act", args=[w.our_case.pk]),
     lambda w: {"action": "merge", "into": w.their_case.number, "version": w.our_case.version}),
]  # fmt: skip


@pytest.fixture
def watcher(db):
    """A village dispatcher of GRID_A's village with the watch-list permission (GRID_B is the next village)."""
    from django.contrib.auth.models import Permission

    from wangge.areas.models import Area

    user = User.objects.create_user("watcher", password="wangge-demo")
    Membership.objects.create(user=user, role=Role.VILLAGE_DISPATCHER, area=Area.objects.get(code="441900122002"))
    user.user_permissions.add(Permission.objects.get(codename="use_watchlists"))
    return user


def _refused(response):
    assert response.status_code in (400, 403, 404, 409, 422) or (
        response.status_code == 302 and "/login" not in response.get("Location", "")
    ), response.status_code


@pytest.mark.parametrize("name,method,who,path,body", PROBES, ids=[p[0] for p in PROBES])
def test_api_writes_with_foreign_ids_are_refused_and_write_nothing(world, name, method, who, path, body):
    before = fingerprint()
    response = _json(who, method, path(world), body(world))
    assert response.status_code in (400, 403, 404, 409, 422) or name.startswith("api mark"), (
        response.status_code,
        response.content[:300],
    )
    after = fingerprint()
    if name in DUPLICATE_CHECKS:
        # The one row a refused duplicate leaves: the prober's own access log entry (an exact search).
        logged = after.pop("privacy.PersonalDataAccess")[len(before.pop("privacy.PersonalDataAccess")) :]
        assert [row["user_name"] for row in logged] == [who]
    assert after == before
    text = response.content.decode()
    assert world.their_person.name not in text  # nobody learns the name of someone out of reach


@pytest.mark.parametrize("name,who,path,body", PAGE_PROBES, ids=[p[0] for p in PAGE_PROBES])
def test_page_writes_with_foreign_ids_are_refused_and_write_nothing(world, watcher, name, who, path, body):
    own = who if name.startswith("page mark all read") else None
    before = fingerprint(own)
    response = _page(who, path(world), body(world))
    if not name.startswith(("page mark all read", "page review")):
        assert response.status_code in (400, 403, 404, 409), (response.status_code, response.content[-500:])
    assert fingerprint(own) == before
    if response.status_code == 200:
        assert world.their_person.name not in response.content.decode()


def test_a_landlord_declaring_someone_registered_elsewhere_neither_moves_them_nor_learns_their_name(world):
    """The reported leak: the landlord named a resident of the next village by ID number, and the
    person moved into the rental (their residence there ended) and the answer showed their name."""
    their = world.their_person
    current = their.tenancies.get(moved_out__isnull=True)
    response = _json(
        "landlord", "post", f"{A}/my-rentals/{world.our_rental.pk}/tenants",
        {"room": world.our_room.pk, "name": "房客", "person_type": "registered", "id_number": ID_B},
    )  # fmt: skip
    assert response.status_code in (202, 400), response.content
    assert their.name not in response.content.decode()
    current.refresh_from_db()
    their = Person.objects.get(pk=their.pk)
    assert current.moved_out is None and their.residence_id == world.their_room.pk
    assert their.area_path == world.theirs.area_path and their.version == world.their_person.version
    # The page says the same (and shows no name either).
    page = _page(
        "landlord", reverse("registry:my_rental_tenant", args=[world.our_rental.pk]),
        {"room": world.our_room.pk, "name": "房客", "person_type": "registered", "id_number": ID_B},
    )  # fmt: skip
    assert their.name not in page.content.decode()
    if page.status_code == 302:
        assert their.name not in _page_get("landlord", page["Location"]).content.decode()
    assert Person.objects.get(pk=their.pk).residence_id == world.their_room.pk
    assert RentalHouse.objects.get(pk=world.our_rental.pk).version == world.our_rental.version


def _page_get(user, path):
    from django.test import Client

    c = Client()
    c.force_login(User.objects.get(username=user))
    return c.get(path)


def test_the_door_plate_shows_no_personal_data_to_anyone_but_its_staff(client, world, client_as):
    """/q/<token>/: anonymous users and staff of other areas see "registered" and nothing else."""
    token = world.ours.qr_token
    for c in (client, client_as(GM2), client_as("landlord"), client_as("citizen")):
        page = c.get(f"/q/{token}/")
        assert page.status_code == 200
        text = page.content.decode()
        for secret in (world.our_person.name, world.ours.name, world.ours.contact_name, "138", world.ours.code):
            assert secret not in text
    assert client_as(GM).get(f"/q/{token}/").status_code == 302  # its own staff: the building page
