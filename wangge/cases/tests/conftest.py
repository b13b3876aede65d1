import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.areas.models import Area
from wangge.cases import actions
from wangge.cases.photos import store_photo

VILLAGE_A_GRID = "441900122002001"  # grid_manager's grid, in village_dispatcher's village
VILLAGE_B_GRID = "441900122003001"  # grid_manager2's grid: the next village, same town


def point_in(code):
    area = Area.objects.get(code=code)
    return area.centroid_lat, area.centroid_lng


def jpeg_bytes(size=(64, 48), color=(200, 40, 40)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def photo_of(db):
    """photo_of(user) → an uploaded, not yet attached photo id."""

    def make(user=None):
        return store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"), user=user).pk

    return make


@pytest.fixture
def new_case(db, user):
    """new_case(**fields) → a case reported by the grid manager in village A's first grid."""

    def make(reporter="grid_manager", grid=VILLAGE_A_GRID, **fields):
        lat, lng = point_in(grid)
        report = actions.Report(
            description=fields.pop("description", "消防通道被杂物堵塞"),
            channel=fields.pop("channel", "grid_manager"),
            lat=lat,
            lng=lng,
            **fields,
        )
        case, created = actions.report_case(report, user(reporter) if reporter else None)
        assert created
        return case

    return make


def act(case, username_or_user, action, **params):
    """Run a transition with the case's current version, as that user."""
    from wangge.accounts.models import User

    user = User.objects.get(username=username_or_user) if isinstance(username_or_user, str) else username_or_user
    case.refresh_from_db()
    return actions.transition(case, user, action, version=case.version, **params)
