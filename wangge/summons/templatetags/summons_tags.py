"""{% case_summons case %}: on a case's page, the summonses (吹哨) for this case the user may see, and
the way to summon departments for it when the user is a dispatcher of its area."""

from django import template

from .. import queries
from ..models import Status

register = template.Library()


@register.inclusion_tag("summons/_case_summons.html", takes_context=True)
def case_summons(context, case):
    user = context["request"].user
    rows = queries.with_counts(queries.visible(user).filter(case=case)).order_by("-created_at")[:10]
    may = case.is_open and queries.may_summon_at(user, case.area_path)
    return {"case": case, "summonses": list(rows), "may_summon": may, "open": Status.OPEN}
