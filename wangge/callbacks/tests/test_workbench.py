"""The desk's workbench panel: to call and overdue, each count the rows of the list it links to,
in at most two queries."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.accounts.scope import scope_for
from wangge.callbacks.models import CallbackTask
from wangge.cases import roles as case_roles
from wangge.web import workbench

pytestmark = pytest.mark.django_db


def test_the_panel_counts_are_its_lists(closed_citizen_case, client_as, user, django_assert_max_num_queries):
    first, second = closed_citizen_case(), closed_citizen_case(description="垃圾未清运")
    CallbackTask.objects.filter(case=first).update(
        due_at=timezone.now() - timedelta(hours=1), overdue_at=timezone.now()
    )
    dispatcher = user("town_dispatcher")
    case_roles.memberships_of(dispatcher)
    scope_for(dispatcher)
    with django_assert_max_num_queries(2):
        panel = workbench.callbacks(dispatcher)
    tiles = {t.key: t for t in panel.tiles}
    assert (tiles["to_call"].count, tiles["overdue"].count) == (2, 1)
    client = client_as("town_dispatcher")
    for tile in tiles.values():
        html = client.get(tile.url).content.decode()
        assert len(re.findall(r"<tr data-callback=", html)) == tile.count, tile.url
    home = client.get("/").content.decode()
    assert "垃圾未清运" in home and "待回访" in home
    assert "callbacks" not in [p.key for p in workbench.panels_for(user("village_dispatcher"))]
    assert second.number in home
