"""{% inspection_history target %} on a building, rental house or place page."""

from django import template

from ..actions import target_key
from ..models import Inspection, InspectionTask, TargetKind, TaskStatus

register = template.Library()


@register.inclusion_tag("patrol/_inspection_history.html")
def inspection_history(target):
    kind = {"building": TargetKind.BUILDING, "rentalhouse": TargetKind.RENTAL, "place": TargetKind.PLACE}[
        target._meta.model_name
    ]
    key = target_key(kind, target.pk)
    return {
        "inspections": Inspection.objects.filter(target_key=key).select_related("inspector", "checklist")[:20],
        "task": InspectionTask.objects.filter(target_key=key, status=TaskStatus.OPEN).first(),
    }
