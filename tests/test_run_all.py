"""scripts/run_all.py (`make run`) keeps its children up and stops them all on a signal.

The supervisor runs as a real process with tiny stand-in commands that record each start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A child that writes its pid to <folder>/<name> on every start, then sleeps; "stubborn" ignores SIGTERM.
CHILD = """
import os, signal, sys, time
name, folder = sys.argv[1], sys.argv[2]
if name == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(os.path.join(folder, name), "a") as handle:
    handle.write(f"{os.getpid()}\\n")
time.sleep(600)
"""

SUPERVISOR = """
import json, sys
sys.path.insert(0, sys.argv[1])
import run_all
commands = json.loads(sys.argv[2])
sys.exit(run_all.supervise(commands, stop_timeout=2.0, poll_interval=0.05))
"""


def pids(folder: Path, name: str) -> list[int]:
    path = folder / name
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped all the same.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def wait_until(predicate, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.05)


@pytest.fixture
def supervisor(tmp_path):
    names = ("web", "worker", "stubborn")
    commands = {name: [sys.executable, "-c", CHILD, name, str(tmp_path)] for name in names}
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(ROOT / "scripts"), json.dumps(commands)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_until(lambda: all(pids(tmp_path, name) for name in names), timeout=30, message="every child to start")
    yield proc, tmp_path
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for name in names:
        for pid in pids(tmp_path, name):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_child_that_dies_is_restarted_and_the_others_keep_running(supervisor):
    proc, folder = supervisor
    first_worker = pids(folder, "worker")[0]
    os.kill(first_worker, signal.SIGKILL)
    wait_until(lambda: len(pids(folder, "worker")) == 2, timeout=15, message="the worker to be restarted")
    restarted = pids(folder, "worker")[1]
    assert alive(restarted) and not alive(first_worker)
    assert len(pids(folder, "web")) == 1 and alive(pids(folder, "web")[0])
    assert proc.poll() is None

    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "worker (pid" in proc.stderr.read()


def test_sigterm_stops_every_child_and_exits_0(supervisor):
    proc, folder = supervisor
    started = {name: pids(folder, name)[0] for name in ("web", "worker", "stubborn")}
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    log = proc.stderr.read()
    # The stubborn child ignored SIGTERM and was killed once the stop bound ran out.
    assert "stubborn still running after 2 s: SIGKILL" in log
    assert [name for name, pid in started.items() if alive(pid)] == []


def test_ctrl_c_stops_every_child_and_exits_0(supervisor):
    proc, folder = supervisor
    started = [pids(folder, name)[0] for name in ("web", "worker", "stubborn")]
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert [pid for pid in started if alive(pid)] == []


def test_the_backoff_doubles_to_its_cap_and_resets_after_a_stable_run():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "scripts"))

    child = run_all.Child("worker", ["true"], whole_group=False)
    uptimes = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 61.0, 0.5]
    delays = [child.backoff(uptime, start=1.0, cap=30.0, stable_after=60.0) for uptime in uptimes]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 1, 2]
