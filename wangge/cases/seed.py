"""What a new city starts with: the bundled taxonomy, common matter items (入格事项) routed to the
default departments, and default deadline rules. All editable in admin afterwards."""

from django.db import transaction

from wangge.accounts.models import Department

from .models import Category, DeadlineRule, MatterItem, Severity
from .taxonomy import import_taxonomy

# code, name, (category kind, minor code) or None, department code, default severity
DEFAULT_MATTER_ITEMS = [
    ("fire_exit", "消防通道堵塞", ("part", "0113"), "fire", Severity.IMPORTANT),
    ("rental_safety", "出租屋安全隐患", None, "fire", Severity.IMPORTANT),
    ("exposed_garbage", "暴露垃圾", ("event", "0102"), "city_management", Severity.NORMAL),
    ("street_vendor", "无照经营游商", ("event", "0501"), "city_management", Severity.NORMAL),
    ("illegal_building", "私搭乱建", ("event", "0101"), "city_management", Severity.NORMAL),
    ("manhole", "井盖缺失破损", ("part", "0114"), "city_management", Severity.IMPORTANT),
    ("road_collapse", "路面塌陷", ("event", "0401"), "housing", Severity.URGENT),
    ("gas_pipe", "燃气管道破裂", ("event", "0403"), "work_safety", Severity.URGENT),
    ("construction_dust", "工地扬尘", ("event", "0302"), "housing", Severity.NORMAL),
    ("business_noise", "商业噪音", ("event", "0508"), "public_security", Severity.NORMAL),
    ("food_safety", "食品安全隐患", None, "food_drug", Severity.IMPORTANT),
]

# severity: (hours to dispatch, hours to handle, remind hours before)
DEFAULT_RULES = {
    Severity.NORMAL: (4, 48, 24),
    Severity.IMPORTANT: (2, 24, 6),
    Severity.URGENT: (0.5, 4, 1),
}


@transaction.atomic
def seed_cases() -> None:
    if not Category.objects.exists():
        import_taxonomy(edition="bundled")
    for severity, (dispatch, handle, remind) in DEFAULT_RULES.items():
        DeadlineRule.objects.get_or_create(
            matter_item=None,
            severity=severity,
            defaults={"dispatch_hours": dispatch, "handle_hours": handle, "remind_before_hours": remind},
        )
    departments = {d.code: d for d in Department.objects.all()}
    for code, name, category, department, severity in DEFAULT_MATTER_ITEMS:
        found = Category.objects.filter(kind=category[0], code=category[1]).first() if category else None
        MatterItem.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": found,
                "department": departments.get(department),
                "default_severity": severity,
            },
        )
    # A rental-house hazard gets five working days, counted in working hours (holidays excluded).
    rental = MatterItem.objects.get(code="rental_safety")
    DeadlineRule.objects.get_or_create(
        matter_item=rental,
        severity=Severity.IMPORTANT,
        defaults={"dispatch_hours": 4, "handle_hours": 35, "working_hours": True, "remind_before_hours": 8},
    )
