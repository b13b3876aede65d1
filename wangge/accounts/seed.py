"""Departments every city starts with: the eight of the Dongguan 智网工程 plus city management and housing.

Names are the official Chinese names (data, not interface text).
"""

DEFAULT_DEPARTMENTS = [
    ("education", "教育局"),
    ("public_security", "公安局"),
    ("civil_affairs", "民政局"),
    ("health", "卫生健康局"),
    ("food_drug", "食品药品监督管理局"),
    ("work_safety", "应急管理局（安全生产）"),
    ("fire", "消防救援支队"),
    ("market", "市场监督管理局（工商）"),
    ("city_management", "城市管理和综合执法局"),
    ("housing", "住房和城乡建设局"),
    ("water", "水务局"),
    ("transport", "交通运输局"),
    ("ecology", "生态环境局"),
    ("natural_resources", "自然资源局"),
    ("human_resources", "人力资源和社会保障局"),
    ("justice", "司法局（人民调解）"),
    ("power", "供电局"),
    ("telecom", "通信运营商"),
]
