"""The configuration lists every city starts with (names are data, in Chinese). Loaded by migration
0002; edited afterwards in the admin."""

BUILDING_USES = [
    ("residential", "住宅"),
    ("rental", "出租屋"),
    ("self_built", "自建房"),
    ("factory", "厂房"),
    ("warehouse", "仓库"),
    ("shop", "商铺"),
    ("mixed", "商住混合"),
    ("dormitory", "集体宿舍"),
    ("office", "办公"),
    ("public", "公共建筑"),
]

# (code, name, three-small)
PLACE_TYPES = [
    ("small_shop", "小商店", True),
    ("small_workshop", "小作坊", True),
    ("small_entertainment", "小娱乐场所", True),
    ("shop", "商铺", False),
    ("restaurant", "餐饮店", False),
    ("enterprise", "企业", False),
    ("individual_business", "个体工商户", False),
    ("hotel", "旅馆", False),
    ("school", "学校 / 幼儿园", False),
    ("medical", "医疗机构", False),
]

# (kind, code, name)
TAGS = [
    ("person", "elderly_alone", "独居老人"),
    ("person", "disabled", "残疾人"),
    ("person", "left_behind_child", "留守儿童"),
    ("person", "low_income", "低保户"),
    ("person", "veteran", "退役军人"),
    ("person", "mental_health", "严重精神障碍患者"),
    ("person", "community_correction", "社区矫正对象"),
    ("person", "drug_rehab", "社区戒毒康复人员"),
    ("place", "fire_risk", "消防隐患"),
    ("place", "gas_use", "使用燃气"),
    ("place", "hazardous_chemicals", "涉危化品"),
    ("place", "live_work", "三合一（住人）"),
    ("place", "crowded", "人员密集"),
]


def ensure_config_lists(building_use=None, place_type=None, tag=None) -> None:
    """Create the default lists where missing (migration 0002 passes its historical models; the demo
    build calls it again, since transactional tests flush the tables the migration filled)."""
    if building_use is None:
        from .models import BuildingUse as building_use
        from .models import PlaceType as place_type
        from .models import Tag as tag
    for order, (code, name) in enumerate(BUILDING_USES):
        building_use.objects.get_or_create(code=code, defaults={"name": name, "order": order * 10})
    for order, (code, name, three_small) in enumerate(PLACE_TYPES):
        place_type.objects.get_or_create(
            code=code, defaults={"name": name, "order": order * 10, "is_three_small": three_small}
        )
    for order, (kind, code, name) in enumerate(TAGS):
        tag.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "order": order * 10})
