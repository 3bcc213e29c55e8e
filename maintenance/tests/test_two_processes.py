"""A change made by another process reaches this process's shield within 2 seconds."""

import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.test import Client

from opsconsole.env import BASE_DIR
from opsconsole.testing import worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("maintenance.tests.urls"), pytest.mark.slow]


def other_process(*args: str) -> None:
    """Run `manage.py maintenance_mode ...` as a separate process on the same database and cache."""
    extra = {}
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        extra["OPSCONSOLE_CACHE_DIR"] = settings.CACHES["default"]["LOCATION"]
    result = subprocess.run(
        [sys.executable, "manage.py", "maintenance_mode", *args],
        cwd=BASE_DIR,
        env=worker_env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def seconds_until(predicate, timeout=10.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "the change never arrived"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_mode_change_in_another_process_reaches_the_shield_within_two_seconds():
    client = Client()

    def post_status() -> int:
        return client.post("/test/groups", HTTP_ACCEPT="application/json").status_code

    assert post_status() == 201  # this process now holds "normal" in its memo

    other_process("read_only", "--reason", "two-process test")
    assert seconds_until(lambda: post_status() == 503) <= 2.0
    assert client.get("/test/groups").status_code == 200

    other_process("normal", "--reason", "two-process test done")
    assert seconds_until(lambda: post_status() == 201) <= 2.0
