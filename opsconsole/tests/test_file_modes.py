"""What OpsConsole writes under var/ is private to its user: files 0600, folders 0700."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from opsconsole.env import BASE_DIR, tighten_var_permissions


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def assert_private(path: Path) -> None:
    assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"


def test_a_new_var_folder_database_wal_and_secret_key_are_private(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "OPSCONSOLE_UMASK")}
    env.update(OPSCONSOLE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="opsconsole.settings")
    # The WAL and shared-memory files exist while a connection is open: read their modes then.
    code = (
        "import json, os, stat\n"
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('CREATE TABLE t (x text)')\n"
        "cursor.execute(\"INSERT INTO t VALUES ('secret')\")\n"
        "var = os.environ['OPSCONSOLE_VAR_DIR']\n"
        "names = ['.', 'db.sqlite3', 'db.sqlite3-wal', 'db.sqlite3-shm', 'secret-key']\n"
        "print(json.dumps({n: stat.S_IMODE(os.stat(os.path.join(var, n)).st_mode) for n in names}))\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout.strip().splitlines()[-1])
    assert modes == {
        ".": 0o700,
        "db.sqlite3": 0o600,
        "db.sqlite3-wal": 0o600,
        "db.sqlite3-shm": 0o600,
        "secret-key": 0o600,
    }


@pytest.mark.django_db(transaction=True)
def test_an_export_file_and_its_folder_are_private(settings, tmp_path, monkeypatch):
    from exports import services
    from exports.models import JobStatus

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EXPORTS = {**settings.EXPORTS, "TEMP_DIR": str(tmp_path / "export-tmp")}
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    job, _ = services.export_job_create(job_type="exports.jobs", requested_by="test")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.COMPLETED, job.error_message
    path = Path(default_storage.path(job.file))
    assert path.is_file()
    assert_private(path)
    for folder in path.relative_to(settings.MEDIA_ROOT).parents:
        assert_private(Path(settings.MEDIA_ROOT, folder))


def test_a_mail_file_and_its_folder_are_private(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    mail.send_mail("Reset", "a token in a mail", "ops@example.com", ["ana@example.com"])
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1
    assert_private(tmp_path / "mail")
    assert_private(files[0])


def test_tightening_an_old_var_folder_removes_group_and_other_bits_without_following_links(tmp_path):
    var = tmp_path / "var"
    (var / "media" / "exports").mkdir(parents=True)
    (var / "db.sqlite3").write_text("rows")
    (var / "media" / "exports" / "a.csv").write_text("a")
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    (var / "link").symlink_to(outside)
    for path, old in [(var, 0o755), (var / "media", 0o755), (var / "db.sqlite3", 0o644)]:
        path.chmod(old)
    (var / "media" / "exports" / "a.csv").chmod(0o664)
    outside.chmod(0o644)

    changed = tighten_var_permissions(var, umask=0o077)

    assert mode(var) == mode(var / "media") == 0o700
    assert mode(var / "db.sqlite3") == mode(var / "media" / "exports" / "a.csv") == 0o600
    assert mode(outside) == 0o644  # a link's target is not var/'s to change
    assert var / "db.sqlite3" in changed
    assert tighten_var_permissions(var, umask=0o077) == []
