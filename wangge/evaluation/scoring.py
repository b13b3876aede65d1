"""A scheme version's score of one subject: weighted items against targets, then adjustments
(deductions and bonuses per counted unit, each capped), then a grade by the scheme's bands.

Item score = weight × achievement, where achievement is value ÷ target (capped at 1) when higher is
better, and target ÷ value (1 when at or under target) when lower is better. An item without data
(no denominator: nothing was due) drops out and the other items' weights are scaled up to the same
total, so a subject is never rewarded or punished for work it was not given. No item with data →
no score."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .indicators import INDICATORS

GRADES = {
    "excellent": gettext_lazy("Excellent"),  # 优秀
    "good": gettext_lazy("Good"),  # 良好
    "pass": gettext_lazy("Pass"),  # 合格
    "fail": gettext_lazy("Fail"),  # 不合格
}
WEIGHT_TOTAL = 100


def achievement(indicator, value: float, target: float) -> float:
    if indicator.higher_is_better:
        return min(1.0, value / target) if target else 1.0
    if value <= target:
        return 1.0
    return target / value if value else 1.0


def score(body: dict, indicators: dict) -> tuple[float | None, str, dict]:
    """(score, grade code, points per item and adjustment) for one subject's indicator values."""
    points: dict[str, float] = {}
    items = [(item, indicators.get(item["indicator"])) for item in body.get("items", [])]
    with_data = [(item, value) for item, value in items if value is not None]
    weight_with_data = sum(float(item["weight"]) for item, _v in with_data)
    if not with_data or not weight_with_data:
        return None, "", points
    total_weight = sum(float(item["weight"]) for item, _v in items)
    total = 0.0
    for item, value in with_data:
        indicator = INDICATORS[item["indicator"]]
        weight = float(item["weight"]) * total_weight / weight_with_data
        got = round(weight * achievement(indicator, float(value), float(item["target"])), 2)
        points[item["indicator"]] = got
        total += got
    for adj in body.get("adjustments", []):
        count = indicators.get(adj["indicator"]) or 0
        change = float(adj["points"]) * float(count)
        cap = adj.get("cap")
        if cap not in (None, ""):
            change = max(-float(cap), min(float(cap), change))
        if change:
            points[f"adj:{adj['indicator']}"] = round(change, 2)
            total += change
    total = round(max(0.0, total), 2)
    return total, grade_of(body, total), points


def grade_of(body: dict, value: float | None) -> str:
    if value is None:
        return ""
    bands = body.get("grades") or {}
    for code in ("excellent", "good", "pass"):
        if code in bands and value >= float(bands[code]):
            return code
    return "fail"


def check_body(subject_type: str, body) -> dict:
    """A scheme's content, checked: every problem names its field; nothing is saved when one fails."""
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        raise ValidationError({"body": _("The scheme must be an object with items, adjustments and grades.")})
    items = body.get("items")
    if not isinstance(items, list) or not items:
        errors["items"] = _("Give at least one scored indicator.")
        items = []
    seen = set()
    weights = 0.0
    for n, item in enumerate(items, start=1):
        field = f"items[{n}]"
        if not isinstance(item, dict):
            errors[field] = _("Each item names an indicator, a weight and a target.")
            continue
        indicator = INDICATORS.get(str(item.get("indicator", "")))
        if indicator is None or indicator.subject_type != subject_type:
            errors[f"{field}.indicator"] = _("Unknown indicator for this kind of subject.")
            continue
        if indicator.kind == "count":
            errors[f"{field}.indicator"] = _("%(i)s is a count: use it as a deduction or bonus, not a scored item.") % {
                "i": indicator.name
            }
        if indicator.code in seen:
            errors[f"{field}.indicator"] = _("%(i)s is listed twice.") % {"i": indicator.name}
        seen.add(indicator.code)
        weight = _number(item.get("weight"))
        if weight is None or not 0 < weight <= WEIGHT_TOTAL:
            errors[f"{field}.weight"] = _("A weight is a number above 0 and at most 100.")
        else:
            weights += weight
        target = _number(item.get("target"))
        if target is None or target <= 0 or (indicator.kind == "rate" and target > 1):
            errors[f"{field}.target"] = (
                _("A rate's target is above 0 and at most 1 (e.g. 0.9 for 90%).")
                if indicator.kind == "rate"
                else _("A target is a number above 0.")
            )
    if (
        items
        and "items" not in errors
        and abs(weights - WEIGHT_TOTAL) > 0.001
        and not any(k.endswith(".weight") for k in errors)
    ):
        errors["items"] = _("The weights add up to %(w)s; they must add up to 100.") % {"w": f"{weights:g}"}
    for n, adj in enumerate(body.get("adjustments") or [], start=1):
        field = f"adjustments[{n}]"
        indicator = INDICATORS.get(str(adj.get("indicator", ""))) if isinstance(adj, dict) else None
        if indicator is None or indicator.subject_type != subject_type or indicator.kind != "count":
            errors[f"{field}.indicator"] = _("A deduction or bonus counts a count indicator of this kind of subject.")
            continue
        points = _number(adj.get("points"))
        if points is None or points == 0 or abs(points) > 100:
            errors[f"{field}.points"] = _("Points per case: a number between -100 and 100, not 0.")
        cap = adj.get("cap")
        if cap not in (None, "") and (_number(cap) is None or not 0 < _number(cap) <= 100):
            errors[f"{field}.cap"] = _("A cap is a number above 0 and at most 100, or empty.")
    grades = body.get("grades") or {}
    bands = [_number(grades.get(code)) for code in ("excellent", "good", "pass")]
    if any(b is None or not 0 <= b <= 200 for b in bands):
        errors["grades"] = _("Give the lowest score for excellent, good and pass (0–200).")
    elif not bands[0] > bands[1] > bands[2]:
        errors["grades"] = _("Excellent needs more than good, and good more than pass.")
    flag = body.get("flag_below")
    if flag not in (None, "") and (_number(flag) is None or not 0 <= _number(flag) <= 200):
        errors["flag_below"] = _("The alert threshold is a score between 0 and 200, or empty.")
    if errors:
        raise ValidationError(errors)
    return {
        "items": [
            {"indicator": i["indicator"], "weight": _number(i["weight"]), "target": _number(i["target"])} for i in items
        ],
        "adjustments": [
            {
                "indicator": a["indicator"],
                "points": _number(a["points"]),
                "cap": _number(a.get("cap")) if a.get("cap") not in (None, "") else None,
            }
            for a in body.get("adjustments") or []
        ],
        "grades": dict(zip(("excellent", "good", "pass"), bands, strict=True)),
        "flag_below": _number(flag) if flag not in (None, "") else None,
        "sms_heads": bool(body.get("sms_heads")),
    }


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
