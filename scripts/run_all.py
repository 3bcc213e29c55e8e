"""Run web, one Celery worker and beat in the foreground; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    port = os.environ.get("PORT", "8000")
    python = sys.executable
    var = Path(os.environ.get("OPSCONSOLE_VAR_DIR", ROOT / "var"))
    var.mkdir(exist_ok=True)
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [python, "-m", "celery", "-A", "opsconsole", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [
            python, "-m", "celery", "-A", "opsconsole", "beat", "--loglevel=INFO",
            "--schedule", str(var / "celerybeat-schedule"),
        ],
    }  # fmt: skip
    print(
        f"\nOpsConsole on http://127.0.0.1:{port}\n"
        f"  admin:    http://127.0.0.1:{port}/admin/  (user admin, password in var/admin-password)\n"
        f"  API docs: http://127.0.0.1:{port}/system/docs/\n"
        f"  health:   http://127.0.0.1:{port}/health\n"
        "Ctrl-C stops web, worker and beat.\n",
        flush=True,
    )
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, start_new_session=True) for name, cmd in commands.items()}

    def stop(*_args) -> None:
        for name, proc in procs.items():
            if proc.poll() is None:
                # Celery's main process stops its own pool (warm shutdown); runserver's
                # autoreloader child must be signalled with it, so the web gets the group.
                if name == "web":
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the others.", file=sys.stderr)
                    stop()
                    return proc.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
