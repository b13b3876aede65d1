"""docs/evaluation.md defines every measure and indicator the code has (the pages show the same)."""

from pathlib import Path

from django.utils import timezone

from wangge.evaluation.indicators import INDICATORS, SOURCES, Context
from wangge.evaluation.period import current_month

DOC = Path(__file__).resolve().parents[3] / "docs" / "evaluation.md"


def test_every_measure_and_indicator_is_defined_in_the_docs():
    text = DOC.read_text(encoding="utf-8")
    ctx = Context(current_month(), timezone.now())
    codes = [m.code for sources in SOURCES.values() for s in sources for m in s.measures(ctx)]
    missing = [c for c in codes + list(INDICATORS) if f"`{c}`" not in text]
    assert not missing
