"""The case page puts this user's likely next action first; irreversible actions are secondary and
need a reason (the server refuses an empty one, naming the field); after an action the page says
what happened and who is next, read from the case's new state."""

import re

import pytest
from django.utils import timezone

from wangge.cases.models import Case, Status
from wangge.cases.nextstep import state_summary, when

from .conftest import act

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def _primary(html):
    """The data-action of the one form in the next-step block (None when there is none)."""
    found = re.findall(r'<div class="action-forms next-step">\s*<form class="action primary" data-action="(\w+)"', html)
    assert len(found) <= 1
    return found[0] if found else None


def _page(client, case):
    return client.get(f"/cases/{case.pk}/").content.decode()


def test_primary_action_per_role_and_state(client_as, new_case, user):
    case = new_case()
    dispatcher, manager, handler = client_as("village_dispatcher"), client_as("grid_manager"), client_as("fire_handler")
    assert _primary(_page(dispatcher, case)) == "register"
    assert _primary(_page(manager, case)) == "handle_on_site"
    act(case, "village_dispatcher", "register")
    assert _primary(_page(dispatcher, case)) == "dispatch"
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    assert _primary(_page(handler, case)) == "accept"
    assert _primary(_page(dispatcher, case)) is None  # nothing expected of the desk while the department works
    act(case, "fire_handler", "accept")
    assert _primary(_page(handler, case)) == "feedback"
    act(case, "fire_handler", "feedback", note="已清理")
    assert _primary(_page(manager, case)) == "verify_pass"


def test_irreversible_actions_are_secondary_and_behind_a_confirmation(client_as, new_case):
    case = new_case()
    html = _page(client_as("village_dispatcher"), case)
    irreversible = html[html.index('class="action-forms irreversible"') :]
    for action in ("reject", "close", "merge"):
        form = re.search(rf'<form class="action confirm" data-action="{action}".*?</form>', irreversible, re.S).group(0)
        assert 'type="submit"' not in form.split("<dialog")[0]  # the only submit is inside the dialog
        assert re.search(r'<dialog class="confirm-dialog".*<textarea name="note"[^>]*required', form, re.S)
        assert 'button class="primary"' not in form


@pytest.mark.parametrize(
    "action,extra",
    [("reject", {}), ("close", {"outcome": "withdrawn"}), ("merge", {"into": "OTHER"})],
)
def test_the_server_refuses_an_irreversible_action_without_a_reason(client_as, new_case, action, extra):
    case, other = new_case(), new_case(description="另一处")
    if extra.get("into"):
        extra = {"into": other.number}
    client = client_as("village_dispatcher")
    for note in ("", "   "):
        answer = client.post(
            f"/cases/{case.pk}/act/", {"action": action, "version": case.version, "note": note, **extra}, headers=HX
        )
        assert answer.status_code == 400
        body = answer.content.decode()
        assert "理由：" in body  # the field, by its label
        assert "note:" not in body
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED
    done = client.post(
        f"/cases/{case.pk}/act/", {"action": action, "version": case.version, "note": "重复上报", **extra}, headers=HX
    )
    assert done.status_code == 200


def test_after_an_action_the_page_says_what_happened_and_who_is_next(client_as, new_case):
    case = new_case()
    client = client_as("village_dispatcher")
    act(case, "village_dispatcher", "register")
    case.refresh_from_db()
    answer = client.post(
        f"/cases/{case.pk}/act/", {"action": "dispatch", "version": case.version, "departments": ["fire"]}, headers=HX
    )
    html = answer.content.decode()
    deadline = case.assignments.get().deadline
    notice = re.search(r'<p class="message success next-notice" role="status">(.*?)</p>', html).group(1)
    assert "已派遣至消防" in notice and "等待其签收" in notice and when(deadline) in notice
    assert re.search(r"\d+月\d+日 \d\d:\d\d", notice)
    # Built from the state, not from the button: the same words as the summary of the case now.
    assert notice == state_summary(Case.objects.get(pk=case.pk)).replace("（", "（")
    # Without htmx: the same sentence as the message after the redirect.
    case.refresh_from_db()
    page = client.post(
        f"/cases/{case.pk}/act/", {"action": "escalate", "version": case.version}, follow=True
    ).content.decode()
    assert "等待其签收" in page


def test_summary_per_state(new_case, user):
    case = new_case()
    assert "等待" in state_summary(case) and "立案" in state_summary(case)
    act(case, "village_dispatcher", "register")
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    case.refresh_from_db()
    assert "正在处置" in state_summary(case)
    act(case, "fire_handler", "feedback", note="好")
    case.refresh_from_db()
    assert "网格员" in state_summary(case)
    rejected = new_case(description="不是问题")
    act(rejected, "village_dispatcher", "reject", note="不属于受理范围")
    rejected.refresh_from_db()
    assert "不属于受理范围" in state_summary(rejected)
    assert timezone.now()  # the module formats deadlines in local time


def test_a_decision_someone_waits_for_comes_first(client_as, new_case):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, "fire_handler", "accept")
    act(case, "fire_handler", "request_extension", hours=24, note="需要采购配件")
    case.refresh_from_db()
    assert "申请延期，等待村(社区)调度员审批" in state_summary(case)
    assert _primary(_page(client_as("village_dispatcher"), case)) == "decide_extension"
    other = new_case(description="另一件")
    act(other, "village_dispatcher", "dispatch", departments=["fire"])
    act(other, "fire_handler", "return", note="不属于消防职责")
    other.refresh_from_db()
    assert "申请退回，等待村(社区)调度员审核" in state_summary(other)
    html = _page(client_as("village_dispatcher"), other)
    assert re.search(r'<div class="action-forms next-step">\s*<form class="action" data-action="decide_return"', html)
