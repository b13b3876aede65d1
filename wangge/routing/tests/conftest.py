from wangge.cases.tests.conftest import new_case  # noqa: F401 — a case in village A's first grid
