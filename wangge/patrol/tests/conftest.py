from wangge.registry.tests.conftest import admin, make_building, make_person  # noqa: F401  (shared register fixtures)
