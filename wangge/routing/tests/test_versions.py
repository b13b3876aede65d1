"""Versions: retraining on the platform's own decisions, serving the better one, rolling back, and a
broken or failing model that never stops the serving one."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wangge.cases.models import Assignment, AssignmentStatus, Case
from wangge.notify.models import Notification
from wangge.routing import actions, serving, training
from wangge.routing.models import ModelStatus, RoutingModel
from wangge.routing.suggest import suggest

pytestmark = pytest.mark.django_db


def _serving_version():
    return suggest("井盖没了")[1]


def test_a_new_database_serves_the_shipped_model_as_version_1():
    assert not RoutingModel.objects.exists()
    assert _serving_version() == 1
    first = RoutingModel.objects.get()
    assert first.status == ModelStatus.ACTIVE and first.metrics["top1"] >= 0.75 and first.label_count > 150


def test_only_administrators_train_or_choose(user):
    with pytest.raises(PermissionDenied):
        actions.start_training(user("city_dispatcher"), "")
    _serving_version()
    with pytest.raises(PermissionDenied):
        actions.activate(user("town_dispatcher"), RoutingModel.objects.get())


def _decided_cases(new_case, user, n, department="housing"):
    """n cases of a new kind of text, which dispatchers sent to `department` and it accepted."""
    from wangge.accounts.models import Department

    dept = Department.objects.get(code=department)
    for i in range(n):
        case = new_case(description=f"地下车库第{i}层顶棚渗水滴到车上，墙皮大块剥落", category="event:0199")
        Assignment.objects.create(
            case=case, department=dept, deadline=case.created_at, status=AssignmentStatus.ACCEPTED
        )


def test_retraining_learns_the_dispatchers_departments_and_rollback_restores(user, new_case):
    admin = user("admin")
    assert _serving_version() == 1
    before = suggest("地下车库顶棚渗水滴到车上，墙皮剥落")[0]
    _decided_cases(new_case, user, 6)
    record = actions.start_training(admin, "monthly")
    assert record.status == ModelStatus.TRAINING and record.version == 2
    with pytest.raises(ValidationError):
        actions.start_training(admin, "again")  # one at a time
    record = actions.train(record)
    assert record.status == ModelStatus.ACTIVE and record.platform_examples == 6
    assert record.metrics["top1"] >= 0.75
    after, version = suggest("地下车库顶棚渗水滴到车上，墙皮剥落")
    assert version == 2
    assert after[0]["category"] == "event:0199" and after[0]["department"] == "housing", (before[:2], after[:2])
    assert RoutingModel.objects.get(version=1).status == ModelStatus.READY
    actions.activate(admin, RoutingModel.objects.get(version=1))  # roll back
    assert _serving_version() == 1
    assert RoutingModel.objects.get(version=2).status == ModelStatus.READY


def test_an_interrupted_training_does_not_block_the_next(user, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now())
    stuck = actions.start_training(user("admin"), "")  # the worker died while training it
    time_machine.shift(actions.TRAINING_STALE + actions.timedelta(minutes=1))
    fresh = actions.start_training(user("admin"), "")
    stuck.refresh_from_db()
    assert stuck.status == ModelStatus.FAILED and fresh.status == ModelStatus.TRAINING


def test_a_failed_training_keeps_the_serving_version_and_tells_administrators(user, monkeypatch):
    assert _serving_version() == 1

    def broken(examples):
        raise MemoryError("out of memory")

    monkeypatch.setattr(training, "train", broken)
    record = actions.train(actions.start_training(user("admin"), ""))
    assert record.status == ModelStatus.FAILED and "out of memory" in record.error
    assert _serving_version() == 1
    assert Notification.objects.filter(recipient__username="admin", subject__contains="2").exists()


def test_a_model_that_does_not_load_is_skipped_for_the_previous_one(user):
    assert _serving_version() == 1
    record = actions.train(actions.start_training(user("admin"), ""))
    assert record.status == ModelStatus.ACTIVE and _serving_version() == 2
    RoutingModel.objects.filter(pk=record.pk).update(artifact=b"not a model")
    serving.changed()
    assert _serving_version() == 1  # version 2 is broken: 1 serves, the administrators are told
    assert Notification.objects.filter(recipient__username="admin", dedupe_key=f"routing-load:{record.pk}").exists()


def test_a_worse_version_is_kept_but_not_served(user, monkeypatch):
    assert _serving_version() == 1
    monkeypatch.setattr(training, "measure", lambda model, examples=None: {"top1": 0.1, "top3": 0.2})
    record = actions.train(actions.start_training(user("admin"), ""))
    assert record.status == ModelStatus.READY and _serving_version() == 1
    actions.activate(user("admin"), record)  # an administrator may still choose it
    assert _serving_version() == 2


def test_the_case_keeps_which_version_suggested_what(new_case):
    case = new_case(description="路灯晚上不亮，整条路黑漆漆的")
    row = actions.suggestion_for(case)
    assert row.model.version == 1 and row.suggestions[0]["category"] in ("part:0118", "part:0141")
    assert Case.objects.get(pk=case.pk).routing.pk == row.pk


def test_models_page_for_administrators(client_as):
    assert client_as("town_dispatcher").get("/routing/").status_code == 403
    page = client_as("admin").get("/routing/")
    assert page.status_code == 200
    assert "训练新版本" in page.content.decode()
