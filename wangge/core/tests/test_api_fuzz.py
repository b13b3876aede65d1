"""The whole JSON API under schemathesis: generated requests, valid and invalid, to every operation,
in process through WSGI. Fails on any 5xx, any status the OpenAPI does not declare, any content
type or body that does not match what it declares.

Callers: a dispatcher and an anonymous client (with forged tokens and session cookies) get
schemathesis's coverage cases (boundaries, missing, extra and wrong-typed fields, one by one) plus
FUZZ_EXAMPLES generated requests per operation; a grid manager and an administrator, who may
write where the dispatcher gets 403 (field work, registers, sensor readings), get the generated
requests only. Nothing is left out: DELETE /auth/token revokes the token of its own test only.

Each request runs in a savepoint that is rolled back: every request meets the same city, and a
request that breaks the transaction (PostgreSQL) cannot hide behind another. For a longer run by
hand: WANGGE_FUZZ_EXAMPLES=200.
"""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from shapely.geometry import shape

from wangge.accounts.actions import issue_token
from wangge.accounts.models import User
from wangge.api import api
from wangge.areas.models import Area
from wangge.cases import actions as case_actions
from wangge.registry import actions as registry_actions

FUZZ_EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "12"))
GRID = "441900122002001"  # the grid manager's grid, in the town dispatcher's town


def load_schema(*, coverage: bool, forged_credentials: bool):
    """The API's OpenAPI as schemathesis reads it, calling the app in process."""
    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "database": "none",
                # generated Authorization headers and session cookies (else ours are sent)
                "with-security-parameters": forged_credentials,
            },
            "phases": {
                "examples": {"enabled": False},  # the schema has none
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=config)
    loaded.app = get_wsgi_application()
    return loaded


full = load_schema(coverage=True, forged_credentials=False)
forged = load_schema(coverage=True, forged_credentials=True)
generated = load_schema(coverage=False, forged_credentials=False)
HYPOTHESIS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SENT = Counter()  # (caller, status) → requests, for the line at the end


def call_in_savepoint(case, caller, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with transaction.atomic():
        response = case.call(headers=headers)
        SENT[caller, response.status_code] += 1
        case.validate_response(response, headers=headers)
        transaction.set_rollback(True)


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    """One line at the end: requests by caller and by status (shown when run without xdist)."""
    yield
    callers, statuses = Counter(), Counter()
    for (caller, status), n in SENT.items():
        callers[caller] += n
        statuses[status] += n
    line = f"\napi fuzz: {sum(SENT.values())} requests {dict(callers)}, by status {dict(sorted(statuses.items()))}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """As Django's test client does: the real WSGI handler closes the connection after each
    request, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def registers(db):
    """A few rows in the town to find (the test city has no cases and no registers; SQLite ids
    start at 1, and the fuzzer sends small ids often): two cases, one dispatched, a building with
    two rooms, a resident and a rental house."""
    admin = User.objects.get(username="admin")
    point = shape(Area.objects.get(code=GRID).boundary).representative_point()
    for description in ("消防通道被杂物堵塞", "井盖缺失"):
        report = case_actions.Report(description=description, channel="grid_manager", lat=point.y, lng=point.x)
        case, _ = case_actions.report_case(report, User.objects.get(username="grid_manager"))
    case_actions.transition(case, admin, "dispatch", version=case.version, departments=["fire"])
    address = registry_actions.save_address(admin, {"road": "莞太路", "number": "12号", "lat": point.y, "lng": point.x})
    building = registry_actions.save_building(
        admin, {"name": "测试楼", "address": address.code, "use": "rental", "floors": 3, "contact_name": "房东甲"}
    )
    rooms = [registry_actions.save_room(admin, building, {"number": n, "floor": 1}) for n in ("101", "102")]
    registry_actions.register_person(
        admin, {"name": "张三", "person_type": "registered", "id_number": "11010519491231002X", "room": rooms[0].pk}
    )
    registry_actions.save_rental(
        admin, {"building": building.code, "rooms": [r.pk for r in rooms], "landlord_name": "房东甲"}
    )


@pytest.fixture
def token_of(registers):
    """token_of(username) → that user's bearer token, one per test (its examples share it)."""
    issued = {}

    def token(username):
        if username not in issued:
            issued[username] = issue_token(User.objects.get(username=username))
        return issued[username]

    return token


@pytest.mark.django_db
@full.parametrize()
@HYPOTHESIS
def test_api_as_dispatcher(case, token_of):
    call_in_savepoint(case, "dispatcher", token_of("town_dispatcher"))


@pytest.mark.django_db
@forged.parametrize()
@HYPOTHESIS
def test_api_anonymously(case):
    call_in_savepoint(case, "anonymous")


@pytest.mark.django_db
@generated.parametrize()
@HYPOTHESIS
def test_api_as_grid_manager(case, token_of):
    call_in_savepoint(case, "grid manager", token_of("grid_manager"))


@pytest.mark.django_db
@generated.parametrize()
@HYPOTHESIS
def test_api_as_administrator(case, token_of):
    call_in_savepoint(case, "administrator", token_of("admin"))
