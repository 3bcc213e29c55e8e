"""Helpers shared by every app's tests: service detection and a real Celery worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from opsconsole.env import BASE_DIR


def services_required() -> bool:
    """In CI (`OPSCONSOLE_REQUIRE_SERVICES=1`) a missing service is a failure, not a skip."""
    return os.environ.get("OPSCONSOLE_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (OPSCONSOLE_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    """Skip (or fail in CI) unless the suite runs on PostgreSQL."""
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/opsconsole"
        if services_required():
            pytest.fail(f"{reason} (OPSCONSOLE_REQUIRE_SERVICES=1, so this is a failure)")
        pytest.skip(reason)


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must see the test database and broker."""
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["OPSCONSOLE_BROKER_DIR"] = str(settings.BROKER_FOLDER)
    env.update(extra)
    return env


@contextmanager
def celery_worker(*, concurrency: int = 1, ready_timeout: float = 60.0, **env: str) -> Iterator[subprocess.Popen]:
    """Start a real `celery worker` on the configured broker; stop it on exit.

    Use with a `transactional_db` test: the worker is another process and only sees
    committed rows.
    """
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "opsconsole",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork" if concurrency > 1 else "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env=worker_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if " ready." in line:
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        if not ready.wait(ready_timeout):
            raise RuntimeError("celery worker did not start:\n" + "".join(lines[-40:]))
        proc.output_lines = lines  # type: ignore[attr-defined]
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def artifacts_dir() -> Path:
    path = BASE_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
