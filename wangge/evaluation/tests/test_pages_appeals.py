"""Appeal pages: the subject files one (case summary, the figures it is counted in, reason, photos;
errors per field, nothing saved), who sees an appeal (the filer's side and the deciders, 404 for
everyone else), the decision block (accept / refuse / count for another department; 409 when
someone decided first), the outcome for the filer, the list with its filters."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wangge.accounts.models import User
from wangge.cases.models import Assignment, CaseEvent
from wangge.cases.tests.conftest import jpeg_bytes
from wangge.evaluation import appeals
from wangge.evaluation.models import Appeal, AppealStatus
from wangge.evaluation.period import by_dates, current_month
from wangge.evaluation.tests.conftest import act

pytestmark = pytest.mark.django_db

NEW = "/evaluation/appeals/new/"


@pytest.fixture
def contested(new_case):
    """A case of village A dispatched to the fire department and overdue."""
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    Assignment.objects.filter(case=case).update(deadline=timezone.now() - timedelta(hours=1))
    return case


@pytest.fixture
def filed(contested):
    return appeals.file_appeal(User.objects.get(username="fire_handler"), subject_type="department",
                               subject_key="fire", case_id=contested.pk, period_key=current_month().key,
                               reason="派错部门,应由住建处置")  # fmt: skip


def params(case, period=None, key="fire", scheme="cjj-department"):
    return {"case": case.pk, "scheme": scheme, "period": (period or current_month()).key, "key": key}


def photo(name="p.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(), "image/jpeg")


def test_the_form_shows_the_case_and_the_figures_it_is_counted_in(client_as, contested):
    response = client_as("fire_handler").get(NEW, params(contested))
    assert response.status_code == 200
    html = response.content.decode()
    assert contested.number in html and "消防救援支队" in html
    counted = html.split('id="counted-in"')[1].split("</ul>")[0]
    assert 'data-measure="due"' in counted and 'data-measure="overdue"' in counted
    assert 'data-measure="handled"' not in counted
    assert "应处置" in counted  # the figure's name, not its code


def test_filing_with_a_photo(client_as, contested):
    data = {**params(contested), "reason": "派错部门,应由住建处置", "photos": [photo()]}
    response = client_as("fire_handler").post(NEW, data)
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluation/appeals/{appeal.pk}/"
    assert (appeal.department.code, appeal.case_id, appeal.status) == ("fire", contested.pk, AppealStatus.PENDING)
    stored = appeal.photos.get()
    assert stored.case_id == contested.pk and stored.event.action == "appeal"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"reason": "  "}, "reason"),
        ({"period": "2020-01"}, "period"),  # the window closed long ago
        ({"period": "November"}, "period"),  # not a period
        ({"period": "yesterday"}, "case"),  # not counted in yesterday's figures (replaced below)
    ],
)
def test_errors_are_shown_on_their_field_and_nothing_is_filed(client_as, contested, change, field):
    if change.get("period") == "yesterday":
        day = timezone.localdate() - timedelta(days=1)
        change = {"period": by_dates(day, day).key}
    data = {**params(contested), "reason": "派错部门", **change}
    response = client_as("fire_handler").post(NEW, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-error="{field}"' in html and 'id="form-errors"' in html
    assert not Appeal.objects.exists()
    assert "派错部门" in html or field == "reason"  # what was typed is kept


def test_an_uploaded_photo_is_kept_when_the_form_comes_back(client_as, contested):
    client = client_as("fire_handler")
    response = client.post(NEW, {**params(contested), "reason": "", "photos": [photo()]})
    assert response.status_code == 400
    html = response.content.decode()
    kept = html.split('id="kept-photos"')[1].split("</div>")[0]
    photo_id = kept.split('name="photo_ids" value="')[1].split('"')[0]
    response = client.post(NEW, {**params(contested), "reason": "派错部门", "photo_ids": [photo_id]})
    assert response.status_code == 302
    assert [p.pk for p in Appeal.objects.get().photos.all()] == [int(photo_id)]


@pytest.mark.parametrize("username", ["grid_manager2", "town_dispatcher", "leader", "citizen"])
def test_only_the_subject_may_appeal(client_as, contested, username):
    client = client_as(username)
    assert client.get(NEW, params(contested)).status_code == 403
    assert client.post(NEW, {**params(contested), "reason": "x"}).status_code == 403
    assert not Appeal.objects.exists()


def test_a_case_the_subject_does_not_see_is_404(client_as, new_case):
    case = new_case()
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=["housing"])
    assert client_as("fire_handler").get(NEW, params(case)).status_code == 404


def test_a_grid_manager_appeals_for_themselves(client_as, new_case):
    case = new_case()  # reported by grid_manager: counted in their reports
    me = User.objects.get(username="grid_manager")
    data = {**params(case, key=str(me.pk), scheme="cjj-grid-manager"), "reason": "重复上报已合并"}
    assert client_as("grid_manager").post(NEW, data).status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.worker == me and appeal.subject_type == "grid_manager"
    assert client_as("grid_manager2").get(f"/evaluation/appeals/{appeal.pk}/").status_code == 404
    other = {**params(case, key=str(me.pk), scheme="cjj-grid-manager"), "reason": "x"}
    assert client_as("grid_manager2").post(NEW, other).status_code == 403  # not their own key


SEES = {
    "fire_handler": True,  # the filer's side
    "village_dispatcher": True,  # deciders over the case
    "town_dispatcher": True,
    "city_dispatcher": True,
    "admin": True,
    "grid_manager": False,
    "grid_manager2": False,
    "liaobu_dispatcher": False,
    "leader": False,
    "landlord": False,
    "citizen": False,
}
DECIDES = {"village_dispatcher", "town_dispatcher", "city_dispatcher", "admin"}


@pytest.mark.parametrize("username", SEES)
def test_who_sees_an_appeal(client_as, filed, username):
    client = client_as(username)
    response = client.get(f"/evaluation/appeals/{filed.pk}/")
    portal = username in ("landlord", "citizen")  # the portal's users reach no staff page (403)
    assert response.status_code == (200 if SEES[username] else 403 if portal else 404)
    if SEES[username]:
        assert (b'id="decide"' in response.content) == (username in DECIDES)
    listing = client.get("/evaluation/appeals/")
    if username in ("landlord", "citizen"):
        assert listing.status_code == 403
    else:
        assert (f'data-appeal="{filed.pk}"' in listing.content.decode()) == SEES[username]


def test_the_lists_split_mine_and_to_decide_and_filter(client_as, filed):
    mine = client_as("fire_handler").get("/evaluation/appeals/").content.decode()
    assert 'id="to-decide"' not in mine and f'data-appeal="{filed.pk}"' in mine.split('id="my-appeals"')[1]
    village = client_as("village_dispatcher")
    html = village.get("/evaluation/appeals/").content.decode()
    assert f'data-appeal="{filed.pk}"' in html.split('id="to-decide"')[1].split("</section>")[0]
    assert f'data-appeal="{filed.pk}"' not in village.get("/evaluation/appeals/?status=refused").content.decode()
    assert f'data-appeal="{filed.pk}"' in village.get("/evaluation/appeals/?status=pending").content.decode()
    assert f'data-appeal="{filed.pk}"' not in village.get("/evaluation/appeals/?period=2020-01").content.decode()
    assert "待处理" in html  # the status's label, not its code


def test_deciding_on_the_page_and_the_filer_sees_the_outcome(client_as, filed):
    url = f"/evaluation/appeals/{filed.pk}/"
    village = client_as("village_dispatcher")
    page = village.get(url).content.decode()
    assert 'data-measure="overdue"' in page.split('id="counted-in"')[1].split("</dd>")[0]
    offered = page.split('name="reattribute_to"')[1].split("</select>")[0]
    assert 'value="housing"' in offered and 'value="fire"' not in offered
    response = village.post(url, {"accept": "", "note": ""})
    assert response.status_code == 400
    assert b'data-error="accept"' in response.content
    assert village.post(url, {"accept": "1", "note": ""}).status_code == 400
    response = village.post(url, {"accept": "1", "note": "确系派遣错误", "reattribute_to": "housing"})
    assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.status == AppealStatus.ACCEPTED and filed.reattribute_to.code == "housing"
    outcome = client_as("fire_handler").get(url).content.decode()
    assert 'id="appeal-outcome"' in outcome and "住房和城乡建设局" in outcome and "确系派遣错误" in outcome
    assert 'id="decide"' not in outcome
    actions = list(CaseEvent.objects.filter(case=filed.case).values_list("action", flat=True))
    assert actions[-2:] == ["appeal", "appeal_decision"]


def test_a_second_decision_is_409_with_a_message(client_as, filed):
    url = f"/evaluation/appeals/{filed.pk}/"
    town, village = client_as("town_dispatcher"), client_as("village_dispatcher")
    town.get(url)  # both have the page open
    assert village.post(url, {"accept": "0", "note": "派遣无误"}).status_code == 302
    response = town.post(url, {"accept": "1", "note": "改判"})
    assert response.status_code == 409
    assert "该申诉已处理" in response.content.decode()
    filed.refresh_from_db()
    assert filed.status == AppealStatus.REFUSED


def test_the_filer_cannot_decide(client_as, filed):
    response = client_as("fire_handler").post(f"/evaluation/appeals/{filed.pk}/", {"accept": "1", "note": "x"})
    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.status == AppealStatus.PENDING


def test_appeal_photos_are_seen_by_the_deciders_only(client_as, contested):
    client = client_as("fire_handler")
    client.post(NEW, {**params(contested), "reason": "派错部门", "photos": [photo()]})
    appeal = Appeal.objects.get()
    token = appeal.photos.get().token
    page = client_as("village_dispatcher").get(f"/evaluation/appeals/{appeal.pk}/").content.decode()
    assert f"/cases/photos/{token}-thumb.jpg" in page.split('id="appeal-photos"')[1]
    assert client_as("village_dispatcher").get(f"/cases/photos/{token}-thumb.jpg").status_code == 200
    assert client.get(f"/cases/photos/{token}-thumb.jpg").status_code == 200
    assert client_as("liaobu_dispatcher").get(f"/cases/photos/{token}-thumb.jpg").status_code == 404
