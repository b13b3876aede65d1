"""Why a transition is refused, with the HTTP status pages and API answer with."""

from django.utils.translation import gettext as _


class TransitionRefused(Exception):
    """A transition that cannot be made; `status` is the HTTP status pages and API answer with."""

    status = 400


class TransitionNotAllowed(TransitionRefused):
    """The action is not possible in the case's current state (HTTP 400)."""


class NotPermitted(TransitionRefused):
    """The user is not the kind of actor this action needs (HTTP 403)."""

    status = 403


class StaleVersion(TransitionRefused):
    """Somebody changed the case since the user loaded it (HTTP 409)."""

    status = 409

    def __init__(self, current_version):
        self.current_version = current_version
        super().__init__(
            _("Someone else changed this case in the meantime (now version %(v)s). Reload it and try again.")
            % {"v": current_version}
        )


class FilingRefused(NotPermitted):
    """The filer may not use this channel or urgency (HTTP 403); `errors` maps each field to why."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(" ".join(str(m) for m in errors.values()))


class IdempotencyConflict(TransitionRefused):
    """The idempotency key was already used by this client for a different request (HTTP 409)."""

    status = 409

    def __init__(self):
        super().__init__(
            _(
                "This Idempotency-Key was already used for a different request. Send a new key for a new"
                " request, or resend exactly the same request to get its answer."
            )
        )
