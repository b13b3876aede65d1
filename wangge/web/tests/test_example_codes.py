"""Every example code a page shows is a real, valid code: the import templates' examples pass their
own column's check, area codes exist, address and building codes are built as the registers build
them (leaf area + A/B + five digits), the example point lies in that area; and help texts name real areas."""

import re

import pytest

from wangge.accounts.models import Department
from wangge.areas.models import Area
from wangge.jobs.registers import IMPORTS, import_spec

REGISTER_CODE = re.compile(r"^(\d{15})([AB])\d{5}$")


def columns():
    for name in IMPORTS:
        for column in import_spec(name).columns:
            if column.example:
                yield name, column


@pytest.mark.parametrize("register, column", list(columns()), ids=lambda v: getattr(v, "key", v))
def test_import_examples_pass_their_own_check(db, register, column):
    if column.parse:
        column.parse(column.example)  # raises with the reason if the example is not valid


def test_import_example_codes_are_real(db):
    checked = 0
    for register, column in columns():
        example = column.example
        if column.key in ("area", "area_code"):
            assert Area.objects.filter(code=example).exists(), (register, column.key, example)
        elif register == "departments" and column.key == "code":
            assert Department.objects.filter(code=example).exists(), example
        elif REGISTER_CODE.match(example):
            area_code = REGISTER_CODE.match(example)[1]
            assert Area.objects.filter(code=area_code, children=None).exists(), (register, column.key, example)
        else:
            continue
        checked += 1
    assert checked >= 6
    address = {c.key: c.example for c in import_spec("addresses").columns}
    assert Area.objects.get(code=address["code"][:12]).name.startswith(address["community"])


def test_help_texts_name_real_areas(db):
    from wangge.evaluation import api

    source = open(api.__file__, encoding="utf-8").read()
    for path in re.findall(r"such as (\d+/\d+/)", source):
        code = path.strip("/").rsplit("/", 1)[-1]
        assert Area.objects.get(code=code).path == path
