"""The citizens' and landlords' portal (web/portal.py): their own menu and home page, no staff page,
only their own reports and rental houses, rating once when closed, the landlord's move-outs."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from wangge.accounts import actions as account_actions
from wangge.accounts.models import Role
from wangge.cases import actions as case_actions
from wangge.cases.models import Case, Channel, Status
from wangge.demo_portal import seed_portal_demo
from wangge.history.models import ChangeRecord
from wangge.notify.models import Notification
from wangge.registry import actions as registry_actions
from wangge.registry.models import RentalHouse, Room, Tenancy

STAFF_URLS = [
    "/cases/",
    "/cases/department/",
    "/cases/new/",
    "/registry/",
    "/registry/people/",
    "/registry/rentals/",
    "/areas/",
    "/jobs/",
    "/exports/people/",
    "/patrol/m/",
    "/command/",
    "/evaluation/",
]
STAFF_LINKS = ['href="/cases/"', 'href="/registry/"', 'href="/areas/"', 'href="/jobs/"', 'href="/api/v1/docs"',
               'href="/command/"', 'href="/patrol/m/"']  # fmt: skip


@pytest.fixture
def demo(db):
    seed_portal_demo(log=lambda line: None)


def other_landlord():
    user = account_actions.create_user("landlord2", None, full_name="另一位房东")
    account_actions.add_membership(user, Role.LANDLORD)
    return user


def act(case, user, action, **params):
    case.refresh_from_db()
    return case_actions.transition(case, user, action, version=case.version, **params)


# --- the menu, the home page, the staff pages -------------------------------------------------


@pytest.mark.parametrize("username", ["citizen", "landlord"])
def test_the_portal_menu_has_no_staff_entries(client_as, demo, username):
    html = client_as(username).get("/").content.decode()
    assert 'class="mainnav portalnav"' in html
    for link in STAFF_LINKS:
        assert link not in html, link
    assert 'href="/me/report/"' in html and 'href="/me/reports/"' in html and 'href="/notifications/"' in html
    assert ('href="/registry/my-rentals/"' in html) == (username == "landlord")
    assert "我要反映" in html and "我的反映" in html


def test_staff_keep_their_menu(client_as):
    html = client_as("grid_manager").get("/").content.decode()
    assert "portalnav" not in html and 'href="/cases/"' in html


@pytest.mark.parametrize("username", ["citizen", "landlord"])
def test_staff_pages_refuse_citizens_and_landlords(client_as, username):
    client = client_as(username)
    for url in STAFF_URLS:
        assert client.get(url).status_code == 403, url
    for url in ["/", "/me/reports/", "/me/report/", "/track/", "/notifications/", "/profile/", "/pick/categories/"]:
        assert client.get(url).status_code == 200, url
    assert client.get("/report/")["Location"] == "/me/report/"  # signed in: the portal's form


@pytest.mark.parametrize("username", ["citizen", "landlord"])
def test_every_public_page_stays_open_to_portal_users(client_as, username):
    """What an anonymous visitor may open (the report map's place search and area names included),
    a signed-in citizen or landlord may open too: the portal refuses staff pages only."""
    from django.urls import get_resolver

    from wangge.web.portal import PORTAL_VIEWS

    public = {name for name in get_resolver().reverse_dict if isinstance(name, str) and name.startswith("public_")}
    assert public and public <= PORTAL_VIEWS
    client = client_as(username)
    assert client.get("/report/places/", {"q": "厚街"}).status_code == 200
    assert client.get("/report/areas.geojson", {"level": "town", "bbox": "113.5,22.6,114.3,23.2"}).status_code == 200


def test_the_staff_case_page_of_ones_own_report_is_refused(client_as, demo, user):
    case = Case.objects.filter(reporter=user("citizen")).first()
    client = client_as("citizen")
    assert client.get(f"/cases/{case.pk}/").status_code == 403
    assert client.post(f"/cases/{case.pk}/act/", {"action": "evaluate"}).status_code == 403
    assert client.get(f"/me/reports/{case.pk}/").status_code == 200


def test_the_citizens_home(client_as, demo):
    html = client_as("citizen").get("/").content.decode()
    assert 'id="my-reports"' in html and "楼道堆放杂物" in html and "电动车" in html
    assert 'id="my-rentals"' not in html
    assert "1 件办理中 · 1 件待您评价" in html
    closed = Case.objects.get(reporter__username="citizen", status=Status.CLOSED)
    notice = Notification.objects.get(recipient=closed.reporter, channel="inapp")
    assert notice.url == f"/me/reports/{closed.pk}/"  # the outcome leads to 我的反映


def test_the_landlords_home_shows_houses_and_notices(client_as, demo):
    html = client_as("landlord").get("/").content.decode()
    assert 'id="my-rentals"' in html and "湖景路18号出租楼" in html and "新塘路6号出租楼" in html
    assert "房间 202 的租住人员" in html  # what is missing: the undeclared room
    assert "您的租户申报已确认" in html  # the notice of the confirmed declaration
    assert '<span class="badge amber">1</span>' in html  # the declaration still waiting


# --- the citizen: report, my reports, rating --------------------------------------------------


def test_a_citizen_files_a_report_that_is_theirs(client_as, user):
    from wangge.areas.models import Area

    grid = Area.objects.get(code="441900122002001")
    client = client_as("citizen")
    page = client.get("/me/report/")
    phone = user("citizen").phone
    assert phone and f'value="{phone}"' in page.content.decode()  # the account's phone, filled in
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wangge.cases.tests.conftest import jpeg_bytes

    photo = SimpleUploadedFile("cover.jpg", jpeg_bytes(), "image/jpeg")
    form = {"description": "井盖松动，踩上去有响声", "lat": grid.centroid_lat, "lng": grid.centroid_lng,
            "reporter_phone": phone, "idempotency_key": "k1", "photo": photo}  # fmt: skip
    response = client.post("/me/report/", form)
    case = Case.objects.get(description="井盖松动，踩上去有响声")
    assert response.status_code == 302 and response.url == f"/me/reports/{case.pk}/"
    assert case.reporter == user("citizen") and case.channel == Channel.CITIZEN_WEB
    assert case.photos.count() == 1 and case.events.get(action="report").actor_role == "citizen"
    assert "井盖松动" in client.get("/me/reports/").content.decode()
    detail = client.get(f"/me/reports/{case.pk}/").content.decode()
    token = case.photos.get().token
    assert f"/cases/photos/{token}-thumb.jpg" in detail
    assert client.get(f"/cases/photos/{token}-thumb.jpg").status_code == 200


def test_a_landlord_reports_through_the_landlords_channel(client_as):
    from wangge.areas.models import Area

    grid = Area.objects.get(code="441900122002001")
    form = {"description": "出租屋旁电线老化", "lat": grid.centroid_lat, "lng": grid.centroid_lng,
            "reporter_phone": "13800000010"}  # fmt: skip
    assert client_as("landlord").post("/me/report/", form).status_code == 302
    assert Case.objects.get(description="出租屋旁电线老化").channel == Channel.LANDLORD


def test_a_citizen_sees_only_their_own_reports(client_as, demo, user):
    from wangge.cases.tests.conftest import point_in

    lat, lng = point_in("441900122002001")
    others, _ = case_actions.report_case(
        case_actions.Report(description="别人的反映", channel=Channel.GRID_MANAGER, lat=lat, lng=lng),
        user("grid_manager"),
    )
    client = client_as("citizen")
    html = client.get("/me/reports/").content.decode()
    assert "别人的反映" not in html and html.count("data-case=") == 2
    assert client.get(f"/me/reports/{others.pk}/").status_code == 404
    mine = Case.objects.filter(reporter=user("citizen")).first()
    assert client_as("landlord").get(f"/me/reports/{mine.pk}/").status_code == 404


def test_the_timeline_shows_public_steps_only(client_as, demo, user):
    case = Case.objects.get(reporter=user("citizen"), status=Status.HANDLING)
    act(case, user("village_dispatcher"), "escalate", note="内部：需要镇里协调")
    html = client_as("citizen").get(f"/me/reports/{case.pk}/").content.decode()
    assert "内部：需要镇里协调" not in html and "请消防部门核查" not in html  # dispatchers' notes stay internal
    assert "已受理" in html or "已上报" in html or '<ol class="timeline">' in html


def test_rating_only_when_closed_and_only_once(client_as, demo, user):
    client = client_as("citizen")
    handling = Case.objects.get(reporter=user("citizen"), status=Status.HANDLING)
    assert 'class="rate-form"' not in client.get(f"/me/reports/{handling.pk}/").content.decode()
    response = client.post(f"/me/reports/{handling.pk}/", {"satisfaction": 5})
    assert response.status_code == 400
    handling.refresh_from_db()
    assert handling.satisfaction is None

    closed = Case.objects.get(reporter=user("citizen"), status=Status.CLOSED)
    assert 'class="rate-form"' in client.get(f"/me/reports/{closed.pk}/").content.decode()
    assert client.post(f"/me/reports/{closed.pk}/", {"satisfaction": 9}).status_code == 400
    response = client.post(f"/me/reports/{closed.pk}/", {"satisfaction": 4, "comment": "处理很快"})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert (closed.satisfaction, closed.satisfaction_comment) == (4, "处理很快")
    event = closed.events.get(action="evaluate")
    assert event.actor == user("citizen") and not event.is_public
    # Once: a second rating is refused and changes nothing.
    response = client.post(f"/me/reports/{closed.pk}/", {"satisfaction": 1})
    assert response.status_code == 400 and "已评价过" in response.content.decode()
    closed.refresh_from_db()
    assert closed.satisfaction == 4 and closed.events.filter(action="evaluate").count() == 1
    with pytest.raises(case_actions.TransitionNotAllowed):
        act(closed, user("citizen"), "evaluate", satisfaction=2)


# --- the landlord: own houses, move-outs, notices ---------------------------------------------


def test_a_landlord_sees_only_their_own_houses(client_as, demo, user):
    houses = RentalHouse.objects.filter(landlord_user=user("landlord"))
    assert houses.count() == 2
    other = other_landlord()
    client = client_as("landlord2")
    assert "湖景路" not in client.get("/registry/my-rentals/").content.decode()
    assert "湖景路" not in client.get("/").content.decode()
    for house in houses:
        assert client.get(f"/registry/my-rentals/{house.pk}/").status_code == 404
    tenancy = Tenancy.objects.filter(room__building=houses[0].building, moved_out__isnull=True).first()
    response = client.post(f"/registry/my-rentals/{houses[0].pk}/move-outs/", {"tenancy": tenancy.pk})
    assert response.status_code == 404
    assert Tenancy.objects.get(pk=tenancy.pk).moved_out is None
    assert other.is_personal


def test_a_landlord_records_a_move_out(client_as, demo, user):
    landlord = user("landlord")
    house = RentalHouse.objects.get(landlord_user=landlord, building__name="新塘路6号出租楼")
    tenancy = Tenancy.objects.get(room__building=house.building, room__number="101", moved_out__isnull=True)
    person, room = tenancy.person, tenancy.room
    day = timezone.localdate() - datetime.timedelta(days=1)
    client = client_as("landlord")
    page = client.get(f"/registry/my-rentals/{house.pk}/").content.decode()
    assert f'name="tenancy" value="{tenancy.pk}"' in page
    response = client.post(f"/registry/my-rentals/{house.pk}/move-outs/", {"tenancy": tenancy.pk, "moved_out": day})
    assert response.status_code == 302
    tenancy.refresh_from_db()
    person.refresh_from_db()
    room.refresh_from_db()
    assert tenancy.moved_out == day and person.residence is None and not room.is_occupied
    records = ChangeRecord.objects.filter(
        object_type=ContentType.objects.get_for_model(Tenancy), object_id=str(tenancy.pk)
    )
    assert records.filter(user=landlord, action="update").exists()
    note = Notification.objects.filter(recipient=user("grid_manager"), subject="房东登记了租户搬离").first()
    assert note is not None and person.name in note.body
    assert f'data-tenancy="{tenancy.pk}"' not in client.get(f"/registry/my-rentals/{house.pk}/").content.decode()


def test_a_move_out_of_someone_elses_tenant_is_a_field_error(client_as, demo, user):
    landlord = user("landlord")
    mine, theirs = (RentalHouse.objects.get(landlord_user=landlord, building__name=n)
                    for n in ("湖景路18号出租楼", "新塘路6号出租楼"))  # fmt: skip
    # A tenant of the landlord's other house, through this house: not one of this house's tenants.
    elsewhere = Tenancy.objects.filter(room__building=theirs.building, moved_out__isnull=True).first()
    with pytest.raises(ValidationError) as caught:
        registry_actions.record_move_out(landlord, mine, {"tenancy": elsewhere.pk})
    assert "tenancy" in caught.value.message_dict
    client = client_as("landlord")
    response = client.post(f"/registry/my-rentals/{mine.pk}/move-outs/", {"tenancy": elsewhere.pk})
    assert response.status_code == 400 and "请选择本出租屋的在住租户" in response.content.decode()
    assert Tenancy.objects.get(pk=elsewhere.pk).moved_out is None
    for bad in ("x", "99999999999999999999999"):
        assert client.post(f"/registry/my-rentals/{mine.pk}/move-outs/", {"tenancy": bad}).status_code == 400
    own = Tenancy.objects.filter(room__building=mine.building, moved_out__isnull=True).first()
    future = timezone.localdate() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        registry_actions.record_move_out(landlord, mine, {"tenancy": own.pk, "moved_out": future})
    assert "moved_out" in caught.value.message_dict
    before = own.moved_in - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        registry_actions.record_move_out(landlord, mine, {"tenancy": own.pk, "moved_out": before})
    assert "moved_out" in caught.value.message_dict
    assert Tenancy.objects.get(pk=own.pk).moved_out is None


def test_the_room_stays_occupied_while_another_tenant_lives_there(demo, user):
    landlord = user("landlord")
    house = RentalHouse.objects.get(landlord_user=landlord, building__name="湖景路18号出租楼")
    rooms = Room.objects.filter(building=house.building)
    shared = next(r for r in rooms if Tenancy.objects.filter(room=r, moved_out__isnull=True).count() >= 1)
    Room.objects.filter(pk=shared.pk).update(is_occupied=True)
    tenancies = list(Tenancy.objects.filter(room=shared, moved_out__isnull=True))
    registry_actions.record_move_out(landlord, house, {"tenancy": tenancies[0].pk})
    shared.refresh_from_db()
    assert shared.is_occupied == (len(tenancies) > 1)


def test_staff_answers_to_declarations_reach_the_landlord(demo, user):
    notes = Notification.objects.filter(recipient=user("landlord"), channel="inapp")
    assert notes.filter(subject="您的租户申报已确认").exists()


def test_the_api_records_a_move_out_of_ones_own_tenant_only(api_as, demo, user):
    landlord = user("landlord")
    mine, theirs = (RentalHouse.objects.get(landlord_user=landlord, building__name=n)
                    for n in ("湖景路18号出租楼", "新塘路6号出租楼"))  # fmt: skip
    elsewhere = Tenancy.objects.filter(room__building=theirs.building, moved_out__isnull=True).first()
    api = api_as("landlord")
    response = api.post(f"/api/v1/registry/my-rentals/{mine.pk}/move-outs", {"tenancy": elsewhere.pk})
    assert response.status_code == 400 and "tenancy" in str(response.json())
    other_landlord()
    own = Tenancy.objects.filter(room__building=mine.building, moved_out__isnull=True).first()
    response = api_as("landlord2").post(f"/api/v1/registry/my-rentals/{mine.pk}/move-outs", {"tenancy": own.pk})
    assert response.status_code == 404
    assert Tenancy.objects.get(pk=own.pk).moved_out is None
    response = api.post(f"/api/v1/registry/my-rentals/{mine.pk}/move-outs", {"tenancy": own.pk})
    assert response.status_code == 200, response.content
    assert response.json()["moved_out"] == timezone.localdate().isoformat()
    assert Tenancy.objects.get(pk=own.pk).moved_out == timezone.localdate()


def test_the_portal_demo_fits_the_demo_registers_and_is_built_once(db, user):
    from wangge.registry.demo import seed_registers

    seed_registers("test", log=lambda line: None)  # as in the demo city: other houses in the same grid
    seed_portal_demo(log=lambda line: None)
    seed_portal_demo(log=lambda line: None)
    assert RentalHouse.objects.filter(landlord_user=user("landlord")).count() == 2
    assert Case.objects.filter(reporter=user("citizen")).count() == 2
    tenants = Tenancy.objects.filter(room__building__rentals__landlord_user=user("landlord"))
    assert tenants.filter(moved_out__isnull=True).count() >= 5
