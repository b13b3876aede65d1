"""{% case_sensor case %}: on a case's page, the sensor whose alarm raised it (when the user may
see that sensor), as a line of the case's facts; nothing, and no query, for other channels."""

from django import template
from django.core.exceptions import PermissionDenied

from wangge.cases.models import Channel

from .. import queries
from ..models import Reading

register = template.Library()


@register.inclusion_tag("sensors/_case_sensor.html", takes_context=True)
def case_sensor(context, case):
    sensor = None
    if case.channel == Channel.SENSOR:
        user = context["request"].user
        sensor_ids = Reading.objects.filter(case=case).values("sensor")
        try:
            sensor = queries.sensors(user).filter(pk__in=sensor_ids).first()
        except PermissionDenied:  # no sensor pages for this user: no link to one
            sensor = None
    return {"sensor": sensor}
