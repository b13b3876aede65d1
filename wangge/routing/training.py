"""Training and measuring a model: the shipped set plus the platform's decisions in, a TextModel
and its accuracy on the evaluation set (never trained on) out."""

import functools
import time
from collections import defaultdict

from . import dataset
from .textmodel import TextModel, fit


def department_counts(examples) -> dict[str, dict[str, float]]:
    """label → {department: cases} of the platform's own decisions."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for example in examples:
        if example.department and example.platform:
            counts[example.label][example.department] += 1.0
    return {label: dict(by_department) for label, by_department in counts.items()}


def train(examples) -> tuple[TextModel, float]:
    started = time.perf_counter()
    model = fit(
        [e.text for e in examples],
        [e.label for e in examples],
        weights=[e.weight for e in examples],
        departments=department_counts(examples),
        shipped_departments=dataset.shipped_departments(),
    )
    return model, time.perf_counter() - started


@functools.cache
def shipped_model() -> tuple[TextModel, float]:
    """The shipped set's model, trained once per process (a new database's first version, and the
    model served when none is stored)."""
    return train(dataset.shipped_examples())


@functools.cache
def shipped_blob() -> bytes:
    return shipped_model()[0].dumps()


@functools.cache
def shipped_metrics() -> dict:
    return measure(shipped_model()[0])


@functools.cache
def shipped_count() -> int:
    return len(dataset.shipped_examples())


def measure(model: TextModel, examples=None) -> dict:
    """top-1 / top-3 category accuracy and department accuracy (the top suggestion's department
    against the label's department) on the evaluation set, plus how many examples."""
    examples = dataset.evaluation_examples() if examples is None else examples
    if not examples:
        return {}
    ranked = model.rank_many([e.text for e in examples], k=3)
    top1 = sum(r[0][0] == e.label for r, e in zip(ranked, examples, strict=False))
    top3 = sum(e.label in [label for label, _p in r] for r, e in zip(ranked, examples, strict=False))
    with_department = [(r, e) for r, e in zip(ranked, examples, strict=False) if e.department]
    department = sum(model.department_for(r[0][0]) == e.department for r, e in with_department)
    return {
        "examples": len(examples),
        "top1": round(top1 / len(examples), 4),
        "top3": round(top3 / len(examples), 4),
        "department": round(department / len(with_department), 4) if with_department else None,
    }
