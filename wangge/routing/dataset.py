"""Where the labelled texts come from: the shipped Chinese training set (data/training/*.csv, with
data/departments/*.csv naming each label's department) and the platform's own decisions (every
case a department took on: its description, its final category or matter item, the department).
The evaluation set (data/evaluation.csv) is never trained on: it only measures a model."""

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data")
ALIASES = {"part:0198": "part:0131"}  # 沟槽厕所盖板（补录）: a data-entry duplicate of 0131
MAX_DESCRIPTION = 2000  # longer texts are cut (the start says what the matter is)


@dataclass
class Example:
    text: str
    label: str
    department: str | None = None
    weight: float = 1.0
    platform: bool = False  # one of this city's decisions (not the shipped set)


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def shipped_departments() -> dict[str, str]:
    """label → department code, from data/departments/*.csv."""
    result = {}
    for path in sorted((DATA / "departments").glob("*.csv")):
        for row in _read(path):
            result[row["label"].strip()] = row["department"].strip()
    return result


def shipped_examples() -> list[Example]:
    departments = shipped_departments()
    examples = []
    for path in sorted((DATA / "training").glob("*.csv")):
        for row in _read(path):
            label = ALIASES.get(row["label"].strip(), row["label"].strip())
            examples.append(Example(row["text"], label, departments.get(label)))
    return examples


def evaluation_examples() -> list[Example]:
    path = DATA / "evaluation.csv"
    if not path.exists():
        return []
    departments = shipped_departments()
    examples = []
    for row in _read(path):
        label = ALIASES.get(row["label"], row["label"])
        examples.append(Example(row["text"], label, departments.get(label)))
    return examples


def case_label(category_kind, category_code, matter_item_code) -> str | None:
    if category_code:
        return ALIASES.get(f"{category_kind}:{category_code}", f"{category_kind}:{category_code}")
    return f"item:{matter_item_code}" if matter_item_code else None


def platform_examples(limit: int = 200_000, weight: float = 2.0) -> list[Example]:
    """The dispatchers' decisions, newest first: cases a department accepted (or finished), labelled
    with their final category (or matter item) and that department. A department that returned the
    case is not a label; an automatic dispatch counts only once a department accepted it."""
    from wangge.cases.models import AssignmentStatus, Case  # here: the shipped set is read without Django

    rows = (
        Case.objects.filter(
            assignments__status__in=[AssignmentStatus.ACCEPTED, AssignmentStatus.DONE],
        )
        .exclude(description="")
        .exclude(category__isnull=True, matter_item__isnull=True)
        .order_by("-created_at")
        .values_list(
            "description",
            "category__kind",
            "category__code",
            "matter_item__code",
            "assignments__department__code",
            "assignments__status",
        )
    )
    seen, examples = set(), []
    for description, kind, code, item, department, _status in rows.iterator(chunk_size=5000):
        label = case_label(kind, code, item)
        key = (description, label)
        if label is None or key in seen:  # a case with two departments: one example, the first
            continue
        seen.add(key)
        examples.append(Example(description[:MAX_DESCRIPTION], label, department, weight, platform=True))
        if len(examples) >= limit:
            break
    return examples
