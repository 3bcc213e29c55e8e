import pytest
from django.urls import resolve, reverse

from opsconsole.api.views import not_found

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/system/notify5", "/system/exportsdatasets", "/system/retentionruns", "/system/maintenancehistory"],
)
def test_a_path_glued_to_a_mount_point_resolves_to_no_endpoint(path):
    assert resolve(path).func is not_found


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("notifications:outbox-list", {}, "/system/notify"),
        ("notifications:channel-test", {"pk": 3}, "/system/notify/channels/3/test"),
        ("exports:job-download", {"pk": 1}, "/system/exports/1/download"),
        ("retention:policy-detail", {"category": "notifications.outbox"}, "/system/retention/notifications.outbox"),
        ("maintenance:history", {}, "/system/maintenance/history"),
    ],
)
def test_reverse_builds_real_paths(name, kwargs, expected):
    assert reverse(name, kwargs=kwargs) == expected
    assert resolve(expected).url_name == name.split(":")[1]
    assert resolve(expected + "/").url_name == name.split(":")[1]


def test_every_path_reverse_name_and_schema_path_resolves_as_recorded():
    """Today's routes (opsconsole/tests/data/routes.json): a change to the URL patterns keeps them all."""
    import json
    from pathlib import Path

    from opsconsole.tests.routes import snapshot

    recorded = json.loads((Path(__file__).parent / "data" / "routes.json").read_text())
    current = snapshot()
    assert current["reverse"] == recorded["reverse"]
    assert current["resolve"] == recorded["resolve"]
    assert current["schema_paths"] == recorded["schema_paths"]


def test_manage_py_check_prints_no_warning():
    import subprocess
    import sys

    from opsconsole.env import BASE_DIR

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr and "W002" not in result.stderr
