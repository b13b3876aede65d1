"""The phone app's interface text, translated per request and handed to its script as a JSON data
block (json_script): the page carries no inline script, which the Content-Security-Policy forbids."""

from django.utils.translation import gettext as _


def mobile_texts():
    return {
        "caseKind": _("Case report"),
        "positionsKind": _("GPS points"),
        "failed": _("Refused"),
        "loginAgain": _("Please log in again; nothing was lost."),
        "noCases": _("No open cases in your grid."),
        "cachedCopy": _("Offline: showing the last copy."),
        "describe": _("Please describe the problem."),
        "accuracy": _("accuracy"),
        "inspectionKind": _("Inspection"),
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
        "residentKind": _("Resident"),
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
        },
        "results": {"passed": _("Passed"), "corrected": _("Corrected on site"), "cases": _("Cases reported")},
    }
