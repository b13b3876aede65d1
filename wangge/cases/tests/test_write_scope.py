"""Issue 13, item 1: no case write reaches outside the writer's jurisdiction or takes what another
user owns. Every case write endpoint (API and page) is tried with ids from elsewhere: another
case's photo, another user's upload, a department of another town, a case or an area outside
the writer's reach. Each must be refused and leave the other side untouched."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.accounts.models import Department, DepartmentLevel
from wangge.areas.models import Area, Level
from wangge.cases import actions
from wangge.cases.models import Case, CasePhoto, Status

from .conftest import VILLAGE_B_GRID, act, jpeg_bytes, point_in

pytestmark = pytest.mark.django_db

LIAOBU_TOWN = "441900111"


@pytest.fixture
def victim(new_case, user, photo_of):
    """A case in the neighbouring village with a photo as evidence (grid_manager2's report)."""
    photo = photo_of(user("grid_manager2"))
    case = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID, photo_ids=[photo])
    return case, CasePhoto.objects.get(pk=photo)


def _untouched(victim):
    case, photo = victim
    photo.refresh_from_db()
    assert photo.case_id == case.pk and photo.event_id == case.events.get(action="report").pk


# Each action of the table, with the steps that bring a fresh case (village A, reported by the grid
# manager) to where it is allowed, the actor and the action's own parameters.
def _dispatched(case):
    act(case, "village_dispatcher", "dispatch", departments=["fire"])


def _accepted(case):
    _dispatched(case)
    act(case, "fire_handler", "accept")


def _extension_asked(case):
    _accepted(case)
    act(case, "fire_handler", "request_extension", hours=8, note="需要更多时间")


def _fed_back(case, photo_of, user):
    _accepted(case)
    act(case, "fire_handler", "feedback", note="已清理", photo_ids=[photo_of(user("fire_handler"))])


def _returned(case):
    _dispatched(case)
    act(case, "fire_handler", "return", note="非本部门")


def _closed(case):
    act(case, "village_dispatcher", "close", outcome="withdrawn", note="撤回")


ACTIONS = {
    "register": (None, "village_dispatcher", {}),
    "reject": (None, "village_dispatcher", {"note": "不属实"}),
    "handle_on_site": (None, "grid_manager", {"note": "当场处理"}),
    "dispatch": (None, "village_dispatcher", {"departments": ["fire"]}),
    "accept": (_dispatched, "fire_handler", {}),
    "recall": (_dispatched, "village_dispatcher", {"note": "派错部门"}),
    "return": (_dispatched, "fire_handler", {"note": "非本部门"}),
    "request_extension": (_accepted, "fire_handler", {"hours": 8, "note": "需要时间"}),
    "decide_extension": (_extension_asked, "village_dispatcher", {"approve": True}),
    "decide_return": ("returned", "village_dispatcher", {"approve": True}),
    "feedback": (_accepted, "fire_handler", {"note": "已处理"}),
    "escalate": (None, "village_dispatcher", {"note": "上报"}),
    "verify_pass": ("fed_back", "grid_manager", {"note": "已核实"}),
    "verify_fail": ("fed_back", "grid_manager", {"note": "仍未解决"}),
    "close": (None, "village_dispatcher", {"outcome": "withdrawn", "note": "撤回"}),
    "evaluate": (_closed, "village_dispatcher", {"rating": 5}),
    "reopen": (_closed, "village_dispatcher", {"note": "复发"}),
    "merge": ("other_case", "village_dispatcher", {"note": "重复上报"}),
}


def test_the_probe_covers_every_action_of_the_table():
    assert set(ACTIONS) == set(actions.TRANSITIONS)


def _ready(action, new_case, photo_of, user):
    setup, actor, params = ACTIONS[action]
    case = new_case()
    params = dict(params)
    if setup == "fed_back":
        _fed_back(case, photo_of, user)
    elif setup == "other_case":
        params["into"] = new_case(description="同一处的另一宗").pk
    elif setup == "returned":
        _returned(case)
        params["assignment"] = case.assignments.get().pk
    elif setup:
        setup(case)
    case.refresh_from_db()
    return case, actor, params


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_no_action_takes_another_cases_photo(action, new_case, photo_of, user, victim):
    case, actor, params = _ready(action, new_case, photo_of, user)
    with pytest.raises(ValidationError) as err:
        act(case, actor, action, photo_ids=[victim[1].pk], **params)
    assert "photo_ids" in err.value.message_dict
    _untouched(victim)
    # The same action with the actor's own photo goes through: the refusal was about the photo.
    act(case, actor, action, photo_ids=[photo_of(user(actor))], **params)


@pytest.mark.parametrize("action", ["register", "feedback", "close"])
def test_no_action_takes_another_users_upload(action, new_case, photo_of, user):
    case, actor, params = _ready(action, new_case, photo_of, user)
    someone_elses = photo_of(user("grid_manager2"))
    with pytest.raises(ValidationError) as err:
        act(case, actor, action, photo_ids=[someone_elses], **params)
    assert "photo_ids" in err.value.message_dict
    assert CasePhoto.objects.get(pk=someone_elses).case_id is None


def test_api_transition_refuses_another_cases_photo(api_as, new_case, victim):
    case = new_case()
    response = api_as("village_dispatcher").post(
        f"/api/v1/cases/{case.pk}/transitions",
        {"action": "register", "version": case.version, "photo_ids": [victim[1].pk]},
    )
    assert response.status_code == 400 and "photo_ids" in response.json()["errors"]
    _untouched(victim)
    case.refresh_from_db()
    assert case.status == Status.REPORTED


def test_api_intake_refuses_another_users_or_anonymous_upload(api_as, photo_of, user, victim):
    lat, lng = point_in("441900122002001")
    for photo in (photo_of(user("grid_manager2")), photo_of(None), victim[1].pk):
        response = api_as("grid_manager").post(
            "/api/v1/cases", {"description": "借用照片", "lat": lat, "lng": lng, "photo_ids": [photo]}
        )
        assert response.status_code == 400 and "photo_ids" in response.json()["errors"], response.content
    assert not Case.objects.filter(description="借用照片").exists()
    _untouched(victim)


def test_public_intake_names_photos_by_token_and_only_anonymous_ones(photo_of, user):
    lat, lng = point_in("441900122002001")
    anonymous = Client()
    body = {"description": "市民上报", "lat": lat, "lng": lng, "reporter_phone": "13912345678"}
    # Another citizen's upload, by its (sequential) id: refused.
    others = photo_of(None)
    by_id = anonymous.post("/api/v1/public/cases", {**body, "photo_ids": [others]}, content_type="application/json")
    assert by_id.status_code == 400 and "photo_ids" in by_id.json()["errors"]
    # A staff member's upload, even by its token: refused.
    staff = CasePhoto.objects.get(pk=photo_of(user("grid_manager")))
    by_token = anonymous.post(
        "/api/v1/public/cases", {**body, "photo_tokens": [staff.token]}, content_type="application/json"
    )
    assert by_token.status_code == 400 and "photo_tokens" in by_token.json()["errors"]
    assert not Case.objects.filter(description="市民上报").exists()
    # The citizen's own upload, by the token the upload answered.
    upload = anonymous.post("/api/v1/public/photos", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")})
    mine = anonymous.post(
        "/api/v1/public/cases", {**body, "photo_tokens": [upload.json()["token"]]}, content_type="application/json"
    )
    assert mine.status_code == 201, mine.content
    assert Case.objects.get(description="市民上报").photos.get().pk == upload.json()["id"]


@pytest.fixture
def liaobu_department(db):
    """A department that serves Liaobu town only."""
    return Department.objects.create(
        code="liaobu_urban", name="寮步城管分局", level=DepartmentLevel.TOWN, area=Area.objects.get(code=LIAOBU_TOWN)
    )


def test_dispatch_only_to_departments_serving_the_case(new_case, liaobu_department, api_as, client_as):
    case = new_case()
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "dispatch", departments=[liaobu_department.code])
    assert "departments" in err.value.message_dict
    response = api_as("village_dispatcher").post(
        f"/api/v1/cases/{case.pk}/transitions",
        {"action": "dispatch", "version": case.version, "departments": [liaobu_department.code]},
    )
    assert response.status_code == 400 and "departments" in response.json()["errors"]
    page = client_as("village_dispatcher")
    body = {"action": "dispatch", "version": case.version, "departments": [liaobu_department.code]}
    assert page.post(f"/cases/{case.pk}/act/", body, headers={"HX-Request": "true"}).status_code == 400
    board = page.post(f"/command/cases/{case.pk}/act/", body)
    assert board.status_code == 400
    assert not case.assignments.exists()
    # Not offered on the case page either; the city's departments are.
    html = page.get(f"/cases/{case.pk}/").content.decode()
    assert liaobu_department.code not in html and 'value="fire"' in html


def test_merge_only_into_a_case_the_dispatcher_can_see(new_case, api_as, client_as):
    case = new_case()
    liaobu = Area.objects.filter(path__startswith=Area.objects.get(code=LIAOBU_TOWN).path, level=Level.GRID).first()
    lat, lng = liaobu.centroid_lat, liaobu.centroid_lng
    far, _ = actions.report_case(
        actions.Report(description="寮步的案件", channel="api", lat=lat, lng=lng), user=_user("liaobu_dispatcher")
    )
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "merge", into=far.pk)
    assert "into" in err.value.message_dict
    response = api_as("village_dispatcher").post(
        f"/api/v1/cases/{case.pk}/transitions", {"action": "merge", "version": case.version, "into": far.pk}
    )
    assert response.status_code == 400
    page = client_as("village_dispatcher")
    for url, into in ((f"/cases/{case.pk}/act/", far.number), (f"/command/cases/{case.pk}/act/", far.pk)):
        answer = page.post(url, {"action": "merge", "version": case.version, "into": into}, headers={"HX-Request": "1"})
        assert answer.status_code in (400, 404)
    case.refresh_from_db()
    far.refresh_from_db()
    assert case.status == Status.REPORTED and far.status == Status.REPORTED
    assert not Case.objects.filter(merged_into=far).exists()


def _user(username):
    from wangge.accounts.models import User

    return User.objects.get(username=username)


def test_intake_area_code_outside_the_jurisdiction(api_as, client_as, town_call_taker):
    response = api_as("village_dispatcher").post(
        "/api/v1/cases", {"description": "越界登记", "area_code": LIAOBU_TOWN, "channel": "api"}
    )
    assert response.status_code == 400 and "area_code" in response.json()["errors"]
    page = client_as(town_call_taker).post(
        "/cases/new/", {"description": "越界登记", "channel": "hotline", "area_code": LIAOBU_TOWN, "severity": "normal"}
    )
    assert page.status_code == 200 and not Case.objects.filter(description="越界登记").exists()


def test_decide_extension_refuses_an_assignment_of_another_case(new_case, photo_of, user):
    other = new_case(description="另一宗")
    _extension_asked(other)
    case = new_case()
    _extension_asked(case)
    case.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_extension", approve=True, assignment=other.assignments.get().pk)
    assert "assignment" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_extension", approve=True, assignment=2**70)
    assert "assignment" in err.value.message_dict


def test_decide_return_refuses_an_assignment_of_another_jurisdiction(new_case, api_as, client_as):
    """The village dispatcher names the returned assignment of a case in the next village (the town
    dispatcher's): a field error everywhere, as for an id that does not exist, and it stays undecided."""
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    act(theirs, "town_dispatcher", "dispatch", departments=["fire"])
    act(theirs, "fire_handler", "return", note="非本部门")
    far = theirs.assignments.get()
    case = new_case()
    _returned(case)
    case.refresh_from_db()
    for approve in (True, False):
        with pytest.raises(ValidationError) as err:
            act(case, "village_dispatcher", "decide_return", assignment=far.pk, approve=approve, note="必须处理")
        assert "assignment" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        act(case, "village_dispatcher", "decide_return", assignment=2**70, approve=True)
    assert "assignment" in err.value.message_dict
    body = {"action": "decide_return", "version": case.version, "assignment": far.pk, "approve": False, "note": "x"}
    response = api_as("village_dispatcher").post(f"/api/v1/cases/{case.pk}/transitions", body)
    assert response.status_code == 400 and "assignment" in response.json()["errors"]
    page = client_as("village_dispatcher")
    form = {**body, "approve": "0"}
    assert page.post(f"/cases/{case.pk}/act/", form, headers={"HX-Request": "true"}).status_code == 400
    assert page.post(f"/command/cases/{case.pk}/act/", form).status_code == 400
    # Their own case is out of reach altogether: 404, before any id in the body is read.
    mine = case.assignments.get()
    response = api_as("village_dispatcher").post(
        f"/api/v1/cases/{theirs.pk}/transitions", {**body, "version": theirs.version, "assignment": mine.pk}
    )
    assert response.status_code == 404
    far.refresh_from_db()
    mine.refresh_from_db()
    assert far.status == "returned" and far.return_decision == "" and far.return_decided_at is None
    assert mine.return_decision == ""
