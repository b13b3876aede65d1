"""Background jobs of the workorders app, run by the worker (huey)."""

from datetime import timedelta

from huey import crontab

from wangge.notify.actions import deliver_due
from wangge.worker.lease import periodic

from .actions import pump


@periodic("workorders-pump", crontab(minute="*"), every=timedelta(minutes=1))
def pump_work_order_states():
    """Every minute: queue each work order's next state once the one before it got through."""
    if pump():
        deliver_due()
