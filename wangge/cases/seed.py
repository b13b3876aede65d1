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
    # Grid-governance matters the city-management taxonomy has no class for (routing's labels item:<code>).
    ("dispute_neighbor", "邻里纠纷", None, "justice", Severity.NORMAL),
    ("dispute_family", "婚姻家庭纠纷", None, "justice", Severity.NORMAL),
    ("dispute_labor", "劳资纠纷（欠薪）", None, "human_resources", Severity.IMPORTANT),
    ("dispute_property", "物业纠纷", None, "housing", Severity.NORMAL),
    ("dispute_consumer", "消费纠纷", None, "market", Severity.NORMAL),
    ("public_order", "治安隐患", None, "public_security", Severity.IMPORTANT),
    ("gambling_drugs", "黄赌毒线索", None, "public_security", Severity.IMPORTANT),
    ("noise_residential", "生活噪音扰民", None, "public_security", Severity.NORMAL),
    ("work_safety", "安全生产隐患", None, "work_safety", Severity.IMPORTANT),
    ("fire_safety", "消防安全隐患", None, "fire", Severity.IMPORTANT),
    ("hardship_assistance", "困难群众救助", None, "civil_affairs", Severity.NORMAL),
    ("elderly_disabled_care", "老人残疾人关爱", None, "civil_affairs", Severity.NORMAL),
    ("environmental_pollution", "环境污染（排污、废气、异味）", None, "ecology", Severity.IMPORTANT),
    ("water_supply", "供水问题（停水、水质）", None, "water", Severity.NORMAL),
    ("school_surroundings", "校园周边安全", None, "education", Severity.IMPORTANT),
    ("public_health", "公共卫生（病媒、非法行医）", None, "health", Severity.NORMAL),
    ("unlicensed_shop", "无证照经营（店铺）", None, "market", Severity.NORMAL),
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
