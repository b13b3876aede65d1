"""Run the benchmarks, print a table, and write bench/results.json.

Usage: python -m bench [NAME ...]   (NAME: a module of this package listed in BENCHMARKS)
Running some of them keeps the other benchmarks' last results in results.json.
"""

import importlib
import json
import sys

from .common import RESULTS, machine

BENCHMARKS = [
    "locate",
    "intake",
    "dashboard",
    "imports",
    "screening",
    "registry_search",
    "tracks",
    "import_intake",
    "evaluation",
    "hotline",
    "routing",
]


def main(names):
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    chosen = names or BENCHMARKS
    results = []
    for name in chosen:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        for result in module.run():
            result.machine = result.machine or machine()  # a result may name its own database
            results.append(result)
            print(f"   {result.name}: {result.value:,.1f} {result.unit}", flush=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    fresh = {r.name for r in results}
    kept = [r for r in previous if r["name"] not in fresh and r["name"].split(".")[0] not in chosen]
    RESULTS.write_text(json.dumps(kept + [r.as_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten: {RESULTS}")


def print_table(results):
    header = f"{'benchmark':<34} {'value':>14} {'unit':<10} {'baseline':<40} {'baseline value':>16} {'ratio':>7}"
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        print(
            f"{r.name:<34} {r.value:>14,.1f} {r.unit:<10} {r.baseline:<40} {r.baseline_value:>16,.1f} {r.ratio:>7.2f}"
        )
    if results:
        print(f"machine: {results[0].machine}")


if __name__ == "__main__":
    main(sys.argv[1:])
