"""The phone app's interface text, translated per request and handed to its script as a JSON data
block (json_script): the page carries no inline script, which the Content-Security-Policy forbids."""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wangge.cases.models import ACTION_LABELS

from .field_cases import FIELD_ACTIONS


def mobile_texts():
    return {
        # Not "Refused" (不同意, a decision's word in the project catalogue): the server did not take it.
        "failed": pgettext("field app outbox", "Not accepted:"),
        "loginAgain": _("Please log in again; nothing was lost."),
        "noCases": _("No open cases in your grid."),
        "cachedCopy": _("Offline: showing the last copy."),
        "describe": _("Please describe the problem."),
        "accuracy": _("accuracy"),
        "overdue": _("overdue"),
        "due": _("due"),
        "metresAway": _("%(n)s m away"),
        "kmAway": _("%(n)s km away"),
        "noTasks": _("No inspections due."),
        "noCamera": _("This phone cannot scan here: type the code instead."),
        "unknownCode": _("Unknown code, or not in your grid."),
        "optional": _("(optional)"),
        "yes": _("yes"),
        "no": _("no"),
        "corrected": _("Corrected on site"),
        "asCase": _("Report as a case"),
        "proof": _("Photo (proof of the correction)"),
        "note": _("Note"),
        "unanswered": _("Still to answer:"),
        "resolutionNeeded": _("corrected or a case?"),
        "fix": _("Correct it"),
        "inspect": _("Inspect"),
        "noBuilding": _("No building found in your grid."),
        "chooseRoom": _("Choose the room"),
        "required": _("This field is required."),
        "fields": {
            "name": _("Name"),
            "id_number": _("ID number"),
            "passport": _("Passport"),
            "phone": _("Phone"),
            "room": _("Room"),
            "person_type": _("Type"),
            "moved_in": _("Moved in"),
            "detail": _("Reason"),
            "note": _("Note"),
            "photo_ids": _("Photo"),
        },
        "results": {"passed": _("Passed"), "corrected": _("Corrected on site"), "cases": _("Cases reported")},
        # The outbox's list: what each waiting item is.
        "outbox": {
            "case": _("Case report: %(text)s"),
            "inspection": _("Inspection of %(target)s"),
            "inspectionWith": _("Inspection of %(target)s (%(checklist)s)"),
            "resident": _("Resident: %(name)s → %(room)s"),
            "positions": _("GPS points × %(n)s"),
            "caseAction": _("Case %(number)s: %(action)s"),
            "photos": _("%(n)s photo(s)"),
        },
        "discard": _("Remove"),
        "discardConfirm": _("Remove this item from the phone? It will not be sent."),
        "cases": {
            "actions": {a: str(ACTION_LABELS[a]) for a in FIELD_ACTIONS},
            "photo": _("Photo"),
            "waiting": _("waiting to be sent"),
            "gone": _("This case is no longer on your list."),
            "feedback": _("The department reported: %(text)s"),
            "howHandled": _("How was it handled?"),
            "whatIsWrong": _("If not fixed: what is still wrong?"),
            "photoNeeded": _("Photo (needed as proof)"),
            "photoOptional": _("Photo (optional)"),
            "sayWhatIsWrong": _("Say what is still wrong."),
            "photoRequired": _("A photo is needed as proof."),
            "queued": _("Saved on the phone; it will be sent when there is a signal."),
            "sent": _("Sent: case %(number)s is now %(status)s."),
            "changed": _("Someone else changed this case while you were offline; your action was not applied."),
            "changedTo": _(
                "Someone else changed this case while you were offline (it is now %(status)s); your action was"
                " not applied."
            ),
            "open": _("Open the case"),
            "notFound": _("This case is no longer in your jurisdiction; your action was not applied."),
            "web": _("The case in the full web version"),
        },
    }
