"""Workers emit task events for Flower on a real broker; not on the embedded folder broker."""

import json
import subprocess
import sys

import pytest

from opsconsole.env import BASE_DIR

PROBE = (
    "import json; from opsconsole.celery import app; "
    "print(json.dumps([app.conf.worker_send_task_events, app.conf.task_send_sent_event]))"
)


@pytest.mark.parametrize(
    ("broker", "events"),
    [("redis://127.0.0.1:6379/0", True), ("amqp://guest@127.0.0.1//", True), ("filesystem://", False)],
)
def test_task_events_are_sent_on_a_real_broker(broker, events, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CELERY_BROKER_URL": broker,
        "OPSCONSOLE_ENV_FILE": "",
        "OPSCONSOLE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [events, events]
