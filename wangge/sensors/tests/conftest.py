import pytest

from wangge.areas.models import Area
from wangge.cases.models import MatterItem
from wangge.sensors import actions
from wangge.sensors.models import Direction, Kind, Sensor

GRID = "441900122002001"  # village A's first grid in the test city


@pytest.fixture
def sensor(db):
    """sensor(code=…, threshold=…) → a placed manhole-cover tilt sensor in village A's first grid."""

    def make(code="mh-001", threshold=15.0, **fields):
        area = Area.objects.get(code=GRID)
        s = Sensor(
            code=code,
            name=fields.pop("name", "东城井盖倾角"),
            kind=fields.pop("kind", Kind.MANHOLE),
            lat=fields.pop("lat", area.centroid_lat),
            lng=fields.pop("lng", area.centroid_lng),
            matter_item=MatterItem.objects.get(code="manhole"),
            metric="°",
            threshold=threshold,
            direction=fields.pop("direction", Direction.ABOVE),
            **fields,
        )
        return actions.save_sensor(s)

    return make
