from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_file(monkeypatch, tmp_path, settings):
    path = tmp_path / "admin-password"
    monkeypatch.setattr("opsconsole.management.commands.bootstrap_admin.var_path", lambda name: path)
    settings.OPSCONSOLE_ADMIN_PASSWORD = ""
    return path


def run() -> str:
    out = StringIO()
    call_command("bootstrap_admin", stdout=out)
    return out.getvalue()


def test_the_first_run_creates_admin_with_a_generated_password_kept_in_a_private_file(password_file):
    output = run()
    password = password_file.read_text().strip()
    assert password in output and oct(password_file.stat().st_mode & 0o777) == "0o600"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(password)


def test_a_later_run_never_changes_a_password_chosen_in_the_admin(password_file):
    run()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("chosen-in-the-admin-42")
    admin.save()
    output = run()
    admin.refresh_from_db()
    assert admin.check_password("chosen-in-the-admin-42")
    assert "unchanged" in output


def test_the_environment_password_is_applied_when_given(password_file, settings):
    run()
    settings.OPSCONSOLE_ADMIN_PASSWORD = "from-the-env-77"
    run()
    assert get_user_model().objects.get(username="admin").check_password("from-the-env-77")
