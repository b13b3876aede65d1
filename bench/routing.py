"""Routing suggestions (issue 17): accuracy on the evaluation set (never trained on), time per
suggestion, and training time at the platform's size.

- Accuracy: top-1 / top-3 category and department of the shipped model on wangge/routing/data/
  evaluation.csv. Baseline: the class whose name shares the most characters with the text (what a
  keyword search of the category list gives a dispatcher).
- Time per suggestion: p95 of routing.suggest.suggest() as the API runs it (the serving model, the
  reference rows, the departments' query) over the evaluation texts, one at a time. Baseline: the
  bare scikit-learn ranking of the same texts.
- Training: 100,000 labelled cases (the shipped texts varied by place, opening and typos, as the
  platform's decisions would be) trained as the worker does. Baseline: training on the shipped set.
The database is its own (var/bench/routing), with the test-scale demo city."""

import os
import random
import statistics
import subprocess
import sys
import time

from .common import BENCH_VAR, ROOT, Result

TRAIN_CASES = int(100_000 * float(os.environ.get("BENCH_SCALE", "1")))
PLACES = [
    "厚街镇",
    "虎门镇",
    "长安镇",
    "南城街道",
    "东城街道",
    "塘厦镇",
    "常平镇",
    "寮步镇",
    "松山湖",
    "大朗镇",
    "石龙镇",
]
OPENINGS = ["", "", "市民反映：", "网格员上报：", "来电人称", "12345转办：", "【随手拍】"]
ENDINGS = ["", "", "，请尽快处理。", "，希望有关部门管一管", "，已拍照", "！！"]


def p95(values):
    return statistics.quantiles(values, n=20)[-1] * 1000


def setup():
    os.environ.setdefault("WANGGE_VAR_DIR", str(BENCH_VAR / "routing"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    django = [sys.executable, "-m", "django"]
    subprocess.run([*django, "migrate", "-v0"], check=True, cwd=ROOT)
    import django as dj

    dj.setup()
    from wangge.areas.models import Area

    if not Area.objects.exists():
        subprocess.run([*django, "demo_data", "--scale", "test"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def name_baseline(examples) -> dict:
    """The class whose name (category or matter item) shares the most characters with the text."""
    from wangge.cases.models import Category, MatterItem
    from wangge.routing.dataset import shipped_departments

    names = {f"{c.kind}:{c.code}": c.name for c in Category.objects.filter(parent__isnull=False)}
    names |= {f"item:{m.code}": m.name for m in MatterItem.objects.filter(category__isnull=True)}
    departments = shipped_departments()
    top1 = top3 = department = 0
    for e in examples:
        chars = set(e.text)
        ranked = sorted(names, key=lambda label: -len(chars & set(names[label])))[:3]
        top1 += ranked[0] == e.label
        top3 += e.label in ranked
        department += departments.get(ranked[0]) == e.department
    n = len(examples)
    return {"top1": top1 / n, "top3": top3 / n, "department": department / n}


def varied(examples, n, seed=17):
    from wangge.routing.dataset import Example

    rng = random.Random(seed)
    result = []
    for _ in range(n):
        e = rng.choice(examples)
        text = e.text
        if rng.random() < 0.3 and len(text) > 8:  # a typo: a character dropped
            cut = rng.randrange(len(text))
            text = text[:cut] + text[cut + 1 :]
        text = f"{rng.choice(OPENINGS)}{rng.choice(PLACES)}{text}{rng.choice(ENDINGS)}"
        result.append(Example(text, e.label, e.department, 2.0, platform=True))
    return result


def run():
    setup()
    from wangge.routing import dataset, training
    from wangge.routing.suggest import suggest

    evaluation = dataset.evaluation_examples()
    shipped = dataset.shipped_examples()
    model, shipped_seconds = training.train(shipped)
    measured = training.measure(model, evaluation)
    baseline = name_baseline(evaluation)
    base = f"class-name match on {len(evaluation)} held-out texts"
    results = [
        Result(f"routing.accuracy_{k}", measured[k], "share", base, baseline[k], measured[k] / baseline[k])
        for k in ("top1", "top3", "department")
    ]
    suggest(evaluation[0].text)  # load the serving model (stored as version 1 in a new database)
    texts = [e.text for e in evaluation]
    bare, full = [], []
    for text in texts:
        started = time.perf_counter()
        model.rank(text, 5)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        suggest(text)
        full.append(time.perf_counter() - started)
    results.append(
        Result(
            "routing.suggest_p95", p95(full), "ms", "scikit-learn ranking alone (p95)", p95(bare), p95(full) / p95(bare)
        )
    )
    big = shipped + varied(shipped, TRAIN_CASES - len(shipped))
    _model, seconds = training.train(big)
    results.append(
        Result(
            f"routing.train_{len(big)}",
            seconds,
            "s",
            f"training on the shipped set ({len(shipped)} texts)",
            shipped_seconds,
            seconds / shipped_seconds,
        )
    )
    return results
