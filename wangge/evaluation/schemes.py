"""The schemes a new city starts with (editable on the schemes page; each edit is a new version):
comprehensive evaluation in the style of CJJ/T 106 (one scheme per kind of subject), and Beijing's
接诉即办 three rates (响应率 10%, 解决率 45%, 满意率 45%) for departments and areas."""

from datetime import date

GRADES = {"excellent": 90, "good": 80, "pass": 60}
START = date(2020, 1, 1)


def _items(*rows):
    return [{"indicator": i, "weight": w, "target": t} for i, w, t in rows]


def _adjust(*rows):
    return [{"indicator": i, "points": p, "cap": c} for i, p, c in rows]


SHIPPED = [
    (
        "cjj-department",
        "综合评价·专业部门",
        "department",
        "参照 CJJ/T 106 数字化城市管理综合评价:按期处置、处置、返工、满意度,超期与退回不予认可扣分。",
        {
            "items": _items(
                ("dept_on_time_rate", 40, 0.95),
                ("dept_handle_rate", 25, 1.0),
                ("dept_rework_rate", 15, 0.05),
                ("dept_satisfaction_rate", 20, 0.9),
            ),
            "adjustments": _adjust(("dept_overdue", -1, 20), ("dept_returns_overruled", -2, 10)),
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": True,
        },
    ),
    (
        "cjj-grid-manager",
        "综合评价·网格员",
        "grid_manager",
        "监督员考核:有效上报、按时核查、巡查完成、在格率;自行处置与有效上报加分。",
        {
            "items": _items(
                ("gm_valid_rate", 25, 0.9),
                ("gm_verify_on_time_rate", 30, 0.95),
                ("gm_patrol_rate", 30, 0.95),
                ("gm_in_grid_share", 15, 0.8),
            ),
            "adjustments": _adjust(("gm_on_site", 0.5, 5), ("gm_valid_reports", 0.1, 5)),
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": False,
        },
    ),
    (
        "cjj-area",
        "综合评价·区域",
        "area",
        "区域评价:结案率、按期结案率、复发率、满意率,重新处理扣分。",
        {
            "items": _items(
                ("area_close_rate", 30, 0.95),
                ("area_close_on_time_rate", 35, 0.9),
                ("area_recurrence_rate", 15, 0.1),
                ("area_satisfaction_rate", 20, 0.9),
            ),
            "adjustments": _adjust(("area_reopened", -1, 10)),
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": False,
        },
    ),
    (
        "cjj-desk",
        "综合评价·指挥中心受理派遣",
        "desk",
        "受理派遣评价:按时派遣率、平均立案时长、平均派遣时长,派遣超时扣分。",
        {
            "items": _items(
                ("desk_dispatch_on_time_rate", 50, 0.95), ("desk_register_hours", 25, 1), ("desk_dispatch_hours", 25, 2)
            ),
            "adjustments": _adjust(("desk_dispatch_overdue", -1, 20)),
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": False,
        },
    ),
    (
        "three-rates-department",
        "接诉即办三率·专业部门",
        "department",
        "北京接诉即办考评:响应率 10%、解决率 45%、满意率 45%。",
        {
            "items": _items(
                ("dept_response_rate", 10, 1.0), ("dept_resolve_rate", 45, 1.0), ("dept_satisfaction_rate", 45, 1.0)
            ),
            "adjustments": [],
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": True,
        },
    ),
    (
        "three-rates-area",
        "接诉即办三率·镇街村居",
        "area",
        "北京接诉即办考评:响应率 10%、解决率 45%、满意率 45%。",
        {
            "items": _items(
                ("area_response_rate", 10, 1.0), ("area_resolve_rate", 45, 1.0), ("area_satisfaction_rate", 45, 1.0)
            ),
            "adjustments": [],
            "grades": GRADES,
            "flag_below": 60,
            "sms_heads": False,
        },
    ),
]


def seed_schemes() -> None:
    from .models import Scheme, SchemeVersion

    install(Scheme, SchemeVersion)


def install(scheme_model, version_model) -> None:
    """Create the shipped schemes that are missing (a migration calls this with its historical models)."""
    for code, name, subject_type, description, body in SHIPPED:
        scheme, created = scheme_model.objects.get_or_create(
            code=code, defaults={"name": name, "subject_type": subject_type, "description": description}
        )
        if created:
            version_model.objects.create(scheme=scheme, number=1, valid_from=START, body=body, note="出厂方案")
