"""The cases app's fixtures and helpers, shared."""

from wangge.cases.tests.conftest import (  # noqa: F401
    VILLAGE_A_GRID,
    VILLAGE_B_GRID,
    act,
    new_case,
    photo_of,
    point_in,
)
