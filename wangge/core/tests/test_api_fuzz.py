"""The whole JSON API under schemathesis: generated requests (valid and invalid) to every operation,
as a dispatcher and anonymously, in process through WSGI. Fails on any 5xx, any status the OpenAPI
does not declare, and any body that does not match its declared schema.

Bounded: FUZZ_EXAMPLES generated requests per operation and caller (plus schemathesis's coverage
cases: boundaries, missing and wrong-typed fields). Each request runs in a savepoint that is rolled
back, so every request sees the same city and a request that breaks the transaction cannot hide
behind another. WANGGE_FUZZ_EXAMPLES raises the count for a longer run by hand.
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
from wangge.registry import actions as registry_actions

FUZZ_EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "12"))
DISPATCHER = "town_dispatcher"
GRID = "441900122002001"  # in the dispatcher's town


def load_schema(*, security_parameters: bool):
    """The API's OpenAPI as schemathesis reads it, called in process. With security_parameters,
    requests carry generated tokens and session cookies (the anonymous caller's forgeries)."""
    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "database": "none",
                "with-security-parameters": security_parameters,
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True},  # boundaries, missing and wrong-typed fields
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


dispatcher_schema = load_schema(security_parameters=False)
anonymous_schema = load_schema(security_parameters=True)
HYPOTHESIS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


SENT = Counter()  # (caller, status) → requests, for the summary at the end


def call_in_savepoint(case, headers, caller):
    with transaction.atomic():
        response = case.call(headers=headers)
        SENT[caller, response.status_code] += 1
        case.validate_response(response, headers=headers)
        transaction.set_rollback(True)


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    """One line at the end: how many requests, by caller and by status (shown without xdist)."""
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
    """Like Django's test client: the real WSGI handler would close the test transaction's
    connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def registers(db):
    """A building with two rooms, a resident and a rental house in the dispatcher's town, so that
    the small ids the fuzzer sends can name real rows (the test city has no registers)."""
    admin = User.objects.get(username="admin")
    point = shape(Area.objects.get(code=GRID).boundary).representative_point()
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
def dispatcher_headers(registers):
    return {"Authorization": f"Bearer {issue_token(User.objects.get(username=DISPATCHER))}"}


@pytest.mark.django_db
@dispatcher_schema.parametrize()
@HYPOTHESIS
def test_api_as_dispatcher(case, dispatcher_headers):
    call_in_savepoint(case, dispatcher_headers, "dispatcher")


@pytest.mark.django_db
@anonymous_schema.parametrize()
@HYPOTHESIS
def test_api_anonymously(case):
    call_in_savepoint(case, {}, "anonymous")
