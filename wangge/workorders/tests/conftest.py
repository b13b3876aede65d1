from wangge.cases.tests.conftest import new_case, photo_of  # noqa: F401  shared fixtures
