"""`make bench`: run every bench/bench_*.py, write bench/results.json, print a table.

Each module exposes `run(ctx: BenchContext) -> dict[str, Figure]`, measuring its figure
and its baseline side by side in the same run (README "Tests and benchmarks").
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results.json"


@dataclass
class Figure:
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 3),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "notes": self.notes,
        }


@dataclass
class BenchContext:
    """What a benchmark may use: the PostgreSQL URL (bench databases are made per module),
    the Redis URL, the row counts to use and a scratch folder."""

    postgres_url: str = field(
        default_factory=lambda: os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    )
    redis_url: str = field(default_factory=lambda: os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    rows: int = field(default_factory=lambda: int(os.environ.get("BENCH_ROWS", "1000000")))
    quick: bool = field(default_factory=lambda: os.environ.get("BENCH_QUICK", "") == "1")
    scratch: Path = field(default_factory=lambda: BENCH_DIR.parent / "var" / "bench")

    def __post_init__(self) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)


def figure_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(Figure)]
