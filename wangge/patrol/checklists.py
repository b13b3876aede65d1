"""The checklists and inspection rules a new city starts with (names are data, in Chinese; edited in
admin afterwards: a changed checklist is saved as a new version)."""

from django.db import transaction

from wangge.cases.models import MatterItem

from .models import AnswerType, Checklist, ChecklistItem, InspectionRule, TargetKind

GAS_CHOICES = ["规范", "不规范", "不使用燃气"]
Y, N, C, T, P = AnswerType.YES_NO, AnswerType.NUMBER, AnswerType.CHOICE, AnswerType.TEXT, AnswerType.PHOTO

# code, name, target kind, items: (code, question, type, options, matter item code or None)
# options: yes/no fails on "no" unless "fails_on_yes" (the question asks about a bad thing);
# "collect" marks information only (采集项); for choice, (choices, failing choices);
# for number, (min, max).
SEED_CHECKLISTS = [
    (
        "rental_fire",
        "出租屋消防安全检查",
        TargetKind.RENTAL,
        [
            ("exit_clear", "疏散通道、安全出口是否畅通", Y, None, "fire_exit"),
            ("extinguisher", "是否按要求配置灭火器且在有效期内", Y, None, "rental_safety"),
            ("smoke_alarm", "是否安装独立式感烟火灾探测报警器", Y, None, "rental_safety"),
            ("ebike_indoor", "是否存在电动自行车室内停放、充电", Y, "fails_on_yes", "rental_safety"),
            ("wiring", "电气线路敷设是否规范，无私拉乱接", Y, None, "rental_safety"),
            ("tenants_declared", "租住人员是否已全部申报登记", Y, None, None),
            ("tenant_count", "现住人数", N, (0, None), None),
            ("photo", "现场照片", P, None, None),
        ],
    ),
    (
        "three_small_fire",
        "三小场所消防安全检查",
        TargetKind.PLACE,
        [
            ("exit_clear", "疏散通道、安全出口是否畅通", Y, None, "fire_exit"),
            ("extinguisher", "是否配置灭火器且在有效期内", Y, None, "fire_exit"),
            ("live_in", "是否存在“三合一”（住宿与生产经营合用）", Y, "fails_on_yes", "rental_safety"),
            ("wiring", "电气线路是否规范", Y, None, "rental_safety"),
            (
                "gas",
                "燃气使用是否规范（软管、阀门、报警器）",
                C,
                (["规范", "不规范", "不使用燃气"], ["不规范"]),
                "gas_pipe",
            ),
            ("staff", "从业人数", N, (0, None), None),
        ],
    ),
    (
        "enterprise_safety",
        "企业安全生产检查",
        TargetKind.PLACE,
        [
            ("licence", "营业执照、安全生产许可是否齐全有效", Y, None, None),
            ("training", "员工是否经过安全生产培训", Y, None, None),
            ("hazardous", "危险化学品是否按规定储存", C, (["规范", "不规范", "无危化品"], ["不规范"]), "gas_pipe"),
            ("exit_clear", "疏散通道、安全出口是否畅通", Y, None, "fire_exit"),
            ("remark", "其他情况", T, None, None),
        ],
    ),
    (
        "building_visit",
        "楼栋走访及信息采集",
        TargetKind.BUILDING,
        [
            ("exit_clear", "楼道是否堆放杂物、堵塞通道", Y, None, "fire_exit"),
            ("structure", "房屋外观有无开裂、倾斜等安全隐患", Y, None, "illegal_building"),
            ("households", "现住户数（采集项）", N, "collect", None),
            ("manager_phone", "楼长 / 管理人联系电话是否有变化（采集项）", T, "collect", None),
        ],
    ),
]

# target kind, risk class, place type code, three-small only, every days, checklist.
# Risk class 3 is 三级（高）, the highest (registry.RiskClass): the riskier a building, the more often.
DEFAULT_RULES = [
    (TargetKind.BUILDING, 3, None, False, 7, "building_visit"),
    (TargetKind.BUILDING, 2, None, False, 30, "building_visit"),
    (TargetKind.BUILDING, 1, None, False, 90, "building_visit"),
    (TargetKind.RENTAL, None, None, False, 30, "rental_fire"),
    (TargetKind.PLACE, None, None, True, 30, "three_small_fire"),
    (TargetKind.PLACE, None, "enterprise", False, 90, "enterprise_safety"),
]


@transaction.atomic
def seed_checklists() -> None:
    """Add the seed checklists and rules that are not there yet (an edited checklist is left alone)."""
    matter = {m.code: m for m in MatterItem.objects.all()}
    for code, name, kind, items in SEED_CHECKLISTS:
        if Checklist.objects.filter(code=code).exists():
            continue
        checklist = Checklist.objects.create(code=code, name=name, target_kind=kind, version=1, is_current=True)
        for order, (item_code, text, answer_type, options, matter_code) in enumerate(items):
            item = ChecklistItem(
                checklist=checklist,
                order=order,
                code=item_code,
                text=text,
                answer_type=answer_type,
                matter_item=matter.get(matter_code),
            )
            if options == "collect":
                item.is_collection = True
            elif answer_type == Y:
                # A yes/no question fails on "no"; the questions about a bad thing ("is there…") fail on "yes".
                item.failing_choices = [True] if options == "fails_on_yes" else [False]
            elif answer_type == C:
                item.choices, item.failing_choices = options
            elif answer_type == N and options:
                item.min_value, item.max_value = options
            elif answer_type in (T, P):
                item.is_collection, item.required = True, False
            item.save()
    if not InspectionRule.objects.exists():
        from wangge.registry.models import PlaceType

        for kind, risk, place_type, three_small, every, checklist_code in DEFAULT_RULES:
            InspectionRule.objects.create(
                target_kind=kind,
                risk_class=risk,
                place_type=PlaceType.objects.filter(code=place_type).first() if place_type else None,
                three_small_only=three_small,
                every_days=every,
                checklist_code=checklist_code,
            )
