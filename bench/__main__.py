"""python -m bench [name-substring ...]: run the benchmarks, write bench/results.json."""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback

from bench import BENCH_DIR, RESULTS_PATH, BenchContext, Figure


def discover(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    return names


def print_table(results: dict[str, dict]) -> None:
    header = f"{'benchmark':<28} {'value':>14} {'unit':<10} {'baseline':>14} {'ratio':>8}  notes"
    print(header)
    print("-" * len(header))
    for name, fig in results.items():
        base = "" if fig["baseline"] is None else f"{fig['baseline']:,.2f}"
        ratio = "" if fig["ratio"] is None else f"{fig['ratio']:.2f}x"
        print(f"{name:<28} {fig['value']:>14,.2f} {fig['unit']:<10} {base:>14} {ratio:>8}  {fig['notes']}")


def main(argv: list[str]) -> int:
    ctx = BenchContext()
    results: dict[str, dict] = {}
    if RESULTS_PATH.exists() and argv:
        # A partial run keeps the figures of the benchmarks it did not run.
        results = json.loads(RESULTS_PATH.read_text())
    failed = []
    for module_name in discover(argv):
        print(f"== {module_name}", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{module_name}")
            figures: dict[str, Figure] = module.run(ctx)
        except Exception:
            traceback.print_exc()
            failed.append(module_name)
            continue
        for name, fig in figures.items():
            results[name] = fig.as_dict()
        print(f"   done in {time.monotonic() - started:.1f}s", flush=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print()
    print_table(results)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
