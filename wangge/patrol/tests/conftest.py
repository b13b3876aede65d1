from wangge.registry.tests.conftest import admin, make_building  # noqa: F401  (shared register fixtures)
