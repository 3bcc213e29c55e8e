"""Measure send-to-run latency of the embedded broker (opsconsole.broker_fs, 0.1 s polling).

    .venv/bin/python scripts/measure_broker_latency.py [--count 100] [--transport module:Class]

Starts a real solo Celery worker on a throwaway queue folder with the same transport
options as settings.py, sends `count` tasks spaced out, and prints p50/p95/max of the
time from `delay()` to the task starting on the worker. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FOLDER = Path(os.environ.get("LATENCY_BROKER_DIR", tempfile.gettempdir()))
TRANSPORT = os.environ.get("LATENCY_TRANSPORT", "opsconsole.broker_fs:Transport")

app = Celery("latency", broker="filesystem://")
app.conf.update(
    broker_transport=TRANSPORT,
    broker_transport_options={
        "data_folder_in": str(FOLDER / "queue"),
        "data_folder_out": str(FOLDER / "queue"),
        "processed_folder": str(FOLDER / "processed"),
        "control_folder": str(FOLDER / "control"),
        "store_processed": False,
        "polling_interval": 0.1,  # as settings.py
    },
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
)


@app.task(name="latency.record", ignore_result=True)
def record(sent_at: float) -> None:
    with open(FOLDER / "latencies.txt", "a") as handle:
        handle.write(f"{time.time() - sent_at}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--transport", default=TRANSPORT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="broker-latency-") as folder:
        for name in ("queue", "processed", "control"):
            os.makedirs(os.path.join(folder, name))
        env = {**os.environ, "LATENCY_BROKER_DIR": folder, "LATENCY_TRANSPORT": args.transport}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "measure_broker_latency", "worker", "--pool=solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
            cwd=Path(__file__).parent, env=env,
        )  # fmt: skip
        try:
            os.environ.update(env)
            app.conf.broker_transport = args.transport
            app.conf.broker_transport_options = {
                key: value.replace(str(FOLDER), folder) if isinstance(value, str) else value
                for key, value in app.conf.broker_transport_options.items()
            }
            results = Path(folder) / "latencies.txt"
            record.delay(time.time())  # warm-up: returns once the worker is consuming
            deadline = time.monotonic() + 60
            while not results.exists():
                if time.monotonic() > deadline or worker.poll() is not None:
                    print("the worker did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            results.unlink()
            for _ in range(args.count):
                record.delay(time.time())
                time.sleep(0.13)  # not a multiple of the poll, so sends land all over the poll cycle
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                lines = results.read_text().split() if results.exists() else []
                if len(lines) >= args.count:
                    break
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    values = sorted(float(line) * 1000 for line in lines)
    if len(values) < args.count:
        print(f"only {len(values)} of {args.count} tasks ran", file=sys.stderr)
        return 1
    p95 = values[int(len(values) * 0.95) - 1]
    print(
        f"{args.transport}: {len(values)} tasks, send-to-run p50 {statistics.median(values):.1f} ms, "
        f"p95 {p95:.1f} ms, max {values[-1]:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
