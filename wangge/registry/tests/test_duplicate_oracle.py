"""Issue 13 item 2: registering cannot test whether a number is registered elsewhere in the city.
A duplicate out of the writer's jurisdiction is never named, is logged as a personal-data access
(even though the refused write rolls back) and spends the writer's exact-search budget; once the
budget is spent every registration with a number is refused alike (429), found or not."""

import csv
import io
import json

import pytest

from wangge.core import tabular
from wangge.patrol.models import ResidentRegistration
from wangge.privacy.models import ExactSearch, PersonalDataAccess
from wangge.registry.models import Person
from wangge.registry.transfer import PersonImport

from .conftest import GRID_A, GRID_B, ID_A, ID_B

pytestmark = pytest.mark.django_db


def csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def duplicate_accesses(person):
    return PersonalDataAccess.objects.filter(object_id=str(person.pk), field__startswith="search:duplicate:")


def body(room, id_number=ID_A, name="李四"):
    return {"name": name, "person_type": "registered", "id_number": id_number, "room": room.pk}


def test_a_duplicate_elsewhere_is_not_named_and_is_logged_and_budgeted(make_person, make_building, api_as):
    existing = make_person(ID_A, GRID_A, name="王秘密")
    room = make_building(GRID_B).rooms.first()
    response = api_as("grid_manager2").post("/api/v1/registry/people", body(room))
    assert response.status_code == 400
    assert "王秘密" not in json.dumps(response.json(), ensure_ascii=False) and "existing" not in response.json()
    [access] = duplicate_accesses(existing)  # written although the registration rolled back
    assert access.user_name == "grid_manager2" and access.field == "search:duplicate:id_number" and access.reason
    assert ExactSearch.objects.filter(user__username="grid_manager2", field="duplicate:id_number", found=1).count() == 1
    # A duplicate the writer may see anyway (their own grid) is named, neither logged nor budgeted.
    own = make_building(GRID_A).rooms.first()
    response = api_as("grid_manager").post("/api/v1/registry/people", body(own))
    assert response.status_code == 400 and response.json()["existing"] == existing.pk
    assert duplicate_accesses(existing).count() == 1 and not ExactSearch.objects.filter(user__username="grid_manager")


def test_a_spent_budget_refuses_every_registration_with_a_number_alike(make_person, make_building, api_as, settings):
    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 2
    make_person(ID_A, GRID_A)
    room = make_building(GRID_B).rooms.first()
    api = api_as("grid_manager2")
    for _ in range(2):
        assert api.post("/api/v1/registry/people", body(room)).status_code == 400
    spent = api.post("/api/v1/registry/people", body(room))
    assert spent.status_code == 429 and int(spent["Retry-After"]) > 0 and spent.json()["retry_after"] > 0
    # A number nobody has: the same answer, nothing written (the refusal tells nothing).
    count = Person.objects.count()
    new = api.post("/api/v1/registry/people", body(room, ID_B, "新人"))
    assert new.status_code == 429 and Person.objects.count() == count
    assert PersonalDataAccess.objects.filter(user_name="grid_manager2").count() == 2


def test_the_page_shows_the_spent_budget_as_a_form_error(make_person, make_building, client_as, settings):
    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 1
    make_person(ID_A, GRID_A, name="王秘密")
    room = make_building(GRID_B).rooms.first()
    client = client_as("grid_manager2")
    data = {"name": "李四", "person_type": "registered", "id_number": ID_A, "room": room.pk}
    first = client.post("/registry/people/new/", data)
    assert first.status_code == 400 and "王秘密" not in first.content.decode()
    second = client.post("/registry/people/new/", data)
    assert second.status_code == 429 and "分钟" in second.content.decode()


def test_changing_a_number_to_one_registered_elsewhere_is_logged(make_person, api_as):
    existing = make_person(ID_A, GRID_A, name="王秘密")
    mine = make_person(ID_B, GRID_B, name="本辖区")
    api = api_as("grid_manager2")
    response = api.client.put(
        f"/api/v1/registry/people/{mine.pk}",
        {"name": "本辖区", "person_type": "registered", "id_number": ID_A, "version": mine.version},
        content_type="application/json", headers=api.headers,
    )  # fmt: skip
    assert response.status_code == 400 and "王秘密" not in response.content.decode()
    assert duplicate_accesses(existing).count() == 1


def test_the_field_app_registration_is_logged_and_budgeted_too(make_person, make_building, api_as, settings):
    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 1
    existing = make_person(ID_A, GRID_B, name="王秘密")  # out of grid_manager's grid
    room = make_building(GRID_A).rooms.first()
    api = api_as("grid_manager")

    def post(key, id_number=ID_A):
        headers = {**api.headers, "Idempotency-Key": key}
        return api.client.post("/api/v1/patrol/residents", body(room, id_number), content_type="application/json",
                               headers=headers)  # fmt: skip

    first = post("k1")
    assert first.status_code == 400 and "王秘密" not in first.content.decode()
    assert duplicate_accesses(existing).count() == 1 and not ResidentRegistration.objects.exists()
    assert post("k2").status_code == 429
    assert post("k3", ID_B).status_code == 429 and not Person.objects.filter(name="李四").exists()


def run_people_import(user, rows, dry_run=True, tmp_path=None):
    header = ["姓名", "人员类型", "身份证号", "区域代码"]
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([header, *rows]))
    return tabular.run_import(PersonImport(), path, user, filename="people.csv", dry_run=dry_run)


def test_an_import_reports_numbers_elsewhere_unnamed_and_logs_one_row_per_file(make_person, tmp_path, settings):
    from wangge.accounts.models import User

    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 1  # the interactive budget does not apply to imports
    elsewhere = [make_person(number, GRID_A, name=f"王秘密{i}") for i, number in enumerate((ID_A, ID_B))]
    user = User.objects.get(username="grid_manager2")
    rows = [["李四", "户籍", p.id_number, GRID_B] for p in elsewhere] + [["赵六", "户籍", "", GRID_B]]
    outcome = run_people_import(user, rows, tmp_path=tmp_path)
    reasons = {(e.line, e.field): e.reason for e in outcome.errors}
    assert reasons[(2, "身份证号")] == reasons[(3, "身份证号")] and "王秘密" not in str(reasons)
    [search] = ExactSearch.objects.filter(user=user)  # one per file, although the dry run rolled back
    assert search.field == "import:id_number" and search.found == 2
    [access] = PersonalDataAccess.objects.filter(user_name="grid_manager2")
    assert "2" in access.reason and access.field == "search:import:id_number"
    assert all(f"#{p.pk}" in access.object_repr for p in elsewhere)


def test_an_import_past_its_budget_refuses_the_batch_without_saying_which_rows(make_person, tmp_path, settings):
    from wangge.accounts.models import User

    settings.PRIVACY_IMPORT_DUPLICATES_PER_HOUR = 1
    for i, number in enumerate((ID_A, ID_B)):
        make_person(number, GRID_A, name=f"王秘密{i}")
    user = User.objects.get(username="grid_manager2")
    rows = [["李四", "户籍", ID_A, GRID_B], ["王五", "户籍", ID_B, GRID_B], ["赵六", "户籍", "", GRID_B]]
    outcome = run_people_import(user, rows, tmp_path=tmp_path)
    assert {e.line for e in outcome.errors} == {2, 3, 4} and outcome.valid == 0
    assert len({e.reason for e in outcome.errors if e.field == ""}) == 1
    assert not PersonalDataAccess.objects.filter(user_name="grid_manager2").exists()  # nothing reported


def test_an_edit_that_keeps_the_number_needs_no_budget(make_person, api_as, settings):
    mine = make_person(ID_B, GRID_B, name="本辖区")
    settings.PRIVACY_EXACT_SEARCHES_PER_HOUR = 0
    api = api_as("grid_manager2")
    response = api.client.put(
        f"/api/v1/registry/people/{mine.pk}",
        {"name": "本辖区改", "person_type": "registered", "id_number": ID_B, "version": mine.version},
        content_type="application/json", headers=api.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    changed = api.client.put(
        f"/api/v1/registry/people/{mine.pk}",
        {"name": "本辖区改", "person_type": "registered", "id_number": ID_A, "version": mine.version + 1},
        content_type="application/json", headers=api.headers,
    )  # fmt: skip
    assert changed.status_code == 429
