"""Run web, one Celery worker and beat in the foreground, and keep them running.

A child that exits is logged and started again after a back-off (1 s, doubling to 30 s,
back to 1 s once a child has stayed up for 60 s), so one crash never takes the whole
console down. Ctrl-C (SIGINT), SIGTERM or SIGHUP stop every child and exit 0: Celery's
main process gets SIGTERM (a warm shutdown: it finishes or hands back its tasks), the
web its whole process group (runserver's autoreloader child too), and whatever is still
running after `stop_timeout` seconds gets SIGKILL. A second signal while stopping
escalates to SIGKILL at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0
STOP_TIMEOUT = 15.0


class Stop(Exception):
    """Raised from the signal handlers to leave the supervision loop."""


def default_commands(port: str, var: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [python, "-m", "celery", "-A", "opsconsole", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [
            python, "-m", "celery", "-A", "opsconsole", "beat", "--loglevel=INFO",
            "--schedule", str(var / "celerybeat-schedule"),
        ],
    }  # fmt: skip


def listens_for_outboxes() -> bool:
    """True when a writable PostgreSQL source is configured: its outbox gets a LISTEN/NOTIFY
    listener (`manage.py source_outbox_listen`) beside beat's relay."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from opsconsole.env import env_sources  # the settings' own reading of OPSCONSOLE_SOURCE_<NAME>_URL

    return any(
        not found["READ_ONLY"] and str(found["URL"]).startswith(("postgres://", "postgresql://", "pgsql://"))
        for found in env_sources().values()
    )


def _logger() -> logging.Logger:
    """The supervisor's own lines on stderr: `[run_all] …`, or JSON objects like every child's with LOG_FORMAT=json."""
    logger = logging.getLogger("run_all")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        if os.environ.get("LOG_FORMAT", "text").strip().lower() == "json":
            from pythonjsonlogger.json import JsonFormatter

            fields = {"levelname": "level", "name": "logger"}
            handler.setFormatter(
                JsonFormatter("%(levelname)s %(name)s %(message)s", rename_fields=fields, timestamp="ts")
            )
        else:
            handler.setFormatter(logging.Formatter("[run_all] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log(message: str) -> None:
    _logger().info(message)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Child:
    name: str
    command: Sequence[str]
    whole_group: bool  # signal the process group, not only the main process
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = BACKOFF_START

    def start(self) -> None:
        # A session of its own: Ctrl-C in the terminal reaches only this supervisor, which
        # then stops each child the way that child wants to be stopped.
        self.proc = subprocess.Popen(self.command, cwd=ROOT, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None

    def backoff(self, uptime: float, *, start: float, cap: float, stable_after: float) -> float:
        """Seconds to wait before the next start: doubling per crash, from `start` again after a stable run."""
        if uptime >= stable_after:
            self.delay = start
        delay = self.delay
        self.delay = min(self.delay * 2, cap)
        return delay

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if not self.running():
            return
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            if self.whole_group or signum == signal.SIGKILL:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)


def supervise(
    commands: Mapping[str, Sequence[str]],
    *,
    group_signalled: Sequence[str] = ("web",),
    backoff_start: float = BACKOFF_START,
    backoff_max: float = BACKOFF_MAX,
    stable_after: float = STABLE_AFTER,
    stop_timeout: float = STOP_TIMEOUT,
    poll_interval: float = 0.2,
) -> int:
    """Start every command, restart the ones that exit, stop them all on a signal; 0 once stopped."""
    children = [
        Child(name, command, whole_group=name in group_signalled, delay=backoff_start)
        for name, command in commands.items()
    ]
    stopping = False

    def on_signal(signum, _frame) -> None:
        if stopping:
            log(f"{signal.Signals(signum).name} again: killing everything now")
            for child in children:
                child.signal(signal.SIGKILL)
            return
        raise Stop(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        for child in children:
            child.start()
        while True:
            now = time.monotonic()
            for child in children:
                if child.running():
                    continue
                if child.restart_at is None:
                    assert child.proc is not None
                    uptime = now - child.started_at
                    delay = child.backoff(uptime, start=backoff_start, cap=backoff_max, stable_after=stable_after)
                    child.restart_at = now + delay
                    log(
                        f"{child.name} (pid {child.proc.pid}) {describe_exit(child.proc.returncode)} "
                        f"after {uptime:.1f} s; restarting in {delay:.0f} s"
                    )
                    kill_leftovers(child)
                elif now >= child.restart_at:
                    child.start()
                    assert child.proc is not None
                    log(f"{child.name} restarted (pid {child.proc.pid})")
            time.sleep(poll_interval)
    except (Stop, KeyboardInterrupt) as reason:
        stopping = True
        log(f"{reason or 'SIGINT'}: stopping {', '.join(child.name for child in children)}")
        stop_all(children, timeout=stop_timeout)
        return 0


def stop_all(children: Sequence[Child], *, timeout: float) -> None:
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        if child.proc is None:
            continue
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{child.name} still running after {timeout:.0f} s: SIGKILL")
            child.signal(signal.SIGKILL)
            child.proc.wait()
        kill_leftovers(child)


def kill_leftovers(child: Child) -> None:
    """Whatever an exited main process left in its group (runserver's reloader child, the pool
    processes of a killed celery) goes with it, so a restart never runs beside them."""
    if child.proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.proc.pid, signal.SIGKILL)


def password_hint(var: Path) -> str:
    """Where the admin password really is (bootstrap_admin writes the file only when it generated one)."""
    if os.environ.get("OPSCONSOLE_ADMIN_PASSWORD"):
        return "password from OPSCONSOLE_ADMIN_PASSWORD"
    if (var / "admin-password").exists():
        return f"password in {var / 'admin-password'} unless changed since"
    return "the password you set"


def main() -> int:
    # The settings' .env (opsconsole/env.py), read here too so that LOG_FORMAT and PORT set
    # there apply to this supervisor's own lines and address; real variables win.
    env_file = os.environ.get("OPSCONSOLE_ENV_FILE", str(ROOT / ".env"))
    if env_file and Path(env_file).is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    port = os.environ.get("PORT", "8000")
    var = Path(os.environ.get("OPSCONSOLE_VAR_DIR", ROOT / "var"))
    var.mkdir(exist_ok=True)
    print(
        f"\nOpsConsole on http://127.0.0.1:{port}\n"
        f"  admin:    http://127.0.0.1:{port}/admin/  (user admin, {password_hint(var)})\n"
        f"  API docs: http://127.0.0.1:{port}/system/docs/\n"
        f"  health:   http://127.0.0.1:{port}/health\n"
        "A process that dies is restarted. Ctrl-C stops them all.\n",
        flush=True,
    )
    commands = default_commands(port, var)
    if listens_for_outboxes():
        commands["outbox-listener"] = [sys.executable, "manage.py", "source_outbox_listen"]
    return supervise(commands)


if __name__ == "__main__":
    sys.exit(main())
