"""Departments every city starts with: the eight of the Dongguan 智网工程 plus city management and housing."""

from django.utils.translation import gettext_lazy as _

DEFAULT_DEPARTMENTS = [
    ("education", _("教育局")),
    ("public_security", _("公安局")),
    ("civil_affairs", _("民政局")),
    ("health", _("卫生健康局")),
    ("food_drug", _("食品药品监督管理局")),
    ("work_safety", _("应急管理局（安全生产）")),
    ("fire", _("消防救援支队")),
    ("market", _("市场监督管理局（工商）")),
    ("city_management", _("城市管理和综合执法局")),
    ("housing", _("住房和城乡建设局")),
]
