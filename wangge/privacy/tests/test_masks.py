"""Masks cannot be reversed: for a user without privacy.reveal_personal_data, nothing shown anywhere
(person page, API, export, watch lists, change records, the phone app's building page) fills in the
hidden part of an ID number. Each place is checked by counting the ID numbers that still fit what it
shows: one means the mask was reversed."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from wangge.accounts.actions import add_membership, create_user
from wangge.accounts.models import Role, User
from wangge.areas.models import Area
from wangge.core import pii
from wangge.history.models import ChangeRecord
from wangge.registry import actions as registry_actions
from wangge.registry.validators import ID_CHECK, ID_WEIGHTS, id_check_char
from wangge.watch import actions as watch_actions
from wangge.watch.models import WatchList

pytestmark = pytest.mark.django_db

GRID_A = "441900122002001"
BORN = date(1985, 3, 9)
REGION = "441900"
MIN_CANDIDATES = 1000  # numbers that must still fit what is shown (the region taken as known)


def make_id(seq, born=BORN, region=REGION):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


ID = make_id(123)  # a man (odd sequence)
MASKED = ID[0] + "*" * 16 + ID[-1]


def candidates(mask: str, *, birth: str, sex: str, region: str = REGION) -> int:
    """How many valid ID numbers fit a shown mask, a shown birth date or year, and the shown sex,
    for an attacker who knows the region (the worst case: the person's own area)."""
    assert len(mask) == 18, mask
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth or ""):
        days = [date.fromisoformat(birth)]
    else:
        year = int(birth) if birth else None
        first = date(year, 1, 1) if year else date(1900, 1, 1)
        last = date(year, 12, 31) if year else date(2025, 12, 31)
        days = [first + timedelta(n) for n in range((last - first).days + 1)]
    seq_sums = {}
    for seq in range(1000):
        if sex and (seq % 2 == 1) != (sex == "M"):
            continue
        text = f"{seq:03d}"
        seq_sums[text] = sum(int(c) * w for c, w in zip(text, ID_WEIGHTS[14:], strict=True))
    count = 0
    for day in days:
        head = f"{region}{day:%Y%m%d}"
        if any(m != "*" and m != c for m, c in zip(mask[:14], head, strict=True)):
            continue
        head_sum = sum(int(c) * w for c, w in zip(head, ID_WEIGHTS[:14], strict=True))
        for text, seq_sum in seq_sums.items():
            number = head + text + ID_CHECK[(head_sum + seq_sum) % 11]
            if all(m == "*" or m == c for m, c in zip(mask[14:], number[14:], strict=True)):
                count += 1
    return count


def test_the_old_mask_with_the_birth_date_gives_the_number_back():
    """What today's main showed (region + last four, and the birth date): exactly one number fits."""
    old_mask = ID[:6] + "*" * 8 + ID[-4:]
    assert candidates(old_mask, birth=BORN.isoformat(), sex="M") == 1


def test_the_mask_keeps_the_first_and_last_character_only():
    assert pii.mask_id_number(ID) == MASKED
    assert pii.mask_id_number("11010519491231002X") == "1****************X"
    assert candidates(pii.mask_id_number(ID), birth="1985", sex="M") >= MIN_CANDIDATES


def plain_user(username="leader_plain", area_code="441900122", role=Role.LEADER, perms=()):
    """A user who sees Houjie's people (area membership) without the reveal permission."""
    user = create_user(username, "x" * 12)
    add_membership(user, role, area=Area.objects.get(code=area_code))
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    user = User.objects.get(pk=user.pk)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def person():
    admin = User.objects.get(username="admin")
    return registry_actions.register_person(
        admin, {"name": "张伟", "person_type": "registered", "id_number": ID, "phone": "13900001111",
                "area_code": GRID_A},
    )  # fmt: skip


def shown_values(text: str) -> tuple[str, str]:
    """(mask, birth) as a page or a file shows them: the 18-character mask and a date or a year."""
    masks = re.findall(r"\b\d\*{16}[\dX]\b|\b\d{6}\*{8}\d{3}[\dX]\b", text)
    assert masks, "no ID mask shown"
    dates = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)
    born = [d for d in dates if d == BORN.isoformat()]
    return masks[0], (born[0] if born else "1985")


def test_person_page_shows_the_birth_year_only(person):
    assert not User.objects.get(username="leader").has_perm("privacy.reveal_personal_data")
    _user, client = plain_user()
    html = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "1985-03-09" not in html and "1985" in html
    mask, birth = shown_values(html)
    assert candidates(mask, birth=birth, sex="M") >= MIN_CANDIDATES


def test_person_page_with_the_permission_shows_the_date(person, client_as):
    html = client_as("village_dispatcher").get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "1985-03-09" in html and ID not in html


def test_api_gives_the_birth_year_only(person):
    user, _client = plain_user()
    from wangge.accounts.actions import issue_token

    token = issue_token(user)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    for url in (f"/api/v1/registry/people/{person.pk}", "/api/v1/registry/people"):
        data = client.get(url).json()
        data = data["items"][0] if "items" in data else data
        assert data["birth_date"] is None and data["birth_year"] == 1985 and data["sex"] == "M"
        assert candidates(data["id_number"], birth=str(data["birth_year"]), sex=data["sex"]) >= MIN_CANDIDATES


def test_api_with_the_permission_gives_the_date(person, api_as):
    data = api_as("village_dispatcher").get(f"/api/v1/registry/people/{person.pk}").json()
    assert data["birth_date"] == "1985-03-09" and data["id_number"] == MASKED


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_gives_the_birth_year_only(person, fmt):
    _user, client = plain_user()
    response = client.get(reverse("jobs:export", args=["people"]), {"format": fmt})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        rows = [dict(zip(values[0], row, strict=False)) for row in values[1:]]
    row = next(r for r in rows if r["姓名"] == "张伟")
    assert str(row["出生日期"]) == "1985"
    assert candidates(row["身份证号"], birth=str(row["出生日期"]), sex="M") >= MIN_CANDIDATES


def test_change_records_keep_the_birth_year_and_the_new_mask(person):
    _user, client = plain_user()
    records = json.dumps(list(ChangeRecord.objects.filter(object_id=str(person.pk)).values("after")))
    assert "1985-03-09" not in records and ID[:6] + "********" not in records
    html = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "1985-03-09" not in html


def test_building_page_and_phone_app_show_the_new_mask(person, client_as):
    room_person = registry_actions.register_person(
        User.objects.get(username="admin"),
        {"name": "李四", "person_type": "registered", "id_number": make_id(124),
         "room": _room_in(GRID_A).pk},
    )  # fmt: skip
    _user, client = plain_user()
    html = client.get(reverse("registry:building_detail", args=[room_person.residence.building_id])).content.decode()
    assert pii.mask_id_number(make_id(124)) in html and make_id(124)[:6] + "*" not in html


def _room_in(grid):
    from wangge.registry.tests.conftest import new_building

    return new_building(User.objects.get(username="admin"), grid).rooms.get(number="101")


def test_watch_pages_show_the_birth_year_only(person):
    admin = User.objects.get(username="admin")
    watch_list = WatchList.objects.create(name="名单")
    watch_actions.add_entries(watch_list, [{"name": "某某", "id_number": ID, "birth_date": BORN}], acting_user=admin)
    watch_actions.screen([watch_list])
    _user, client = plain_user("watch_plain", perms=("use_watchlists",))
    for url in (reverse("watch:hits"), reverse("watch:list", args=[watch_list.pk])):
        html = client.get(url).content.decode()
        assert "某某" in html and "1985-03-09" not in html and ID not in html
        mask, birth = shown_values(html)
        assert candidates(mask, birth=birth, sex="M") >= MIN_CANDIDATES


def test_the_migration_rewrites_stored_masks_and_records(person):
    """Rows written with the old mask (and change records with the birth date) are rewritten."""
    import importlib

    from django.apps import apps

    from wangge.registry.models import Person

    old = ID[:6] + "********" + ID[-4:]
    Person.objects.filter(pk=person.pk).update(id_number_masked=old)
    record = ChangeRecord.objects.filter(object_id=str(person.pk)).first()
    ChangeRecord.objects.filter(pk=record.pk).update(after={**record.after, "id_number": old,
                                                              "birth_date": "1985-03-09"})  # fmt: skip
    migration = importlib.import_module("wangge.privacy.migrations.0002_irreversible_masks")
    migration.forwards(apps, None)
    assert Person.objects.get(pk=person.pk).id_number_masked == MASKED
    after = ChangeRecord.objects.get(pk=record.pk).after
    assert after["id_number"] == MASKED and after["birth_date"] == "1985"
