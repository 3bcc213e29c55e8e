from datetime import UTC, datetime

import pytest

from maintenance.services import maintenance_set_mode

# Policies in these tests keep 30 days, so the cutoff is 2026-05-02 12:00:00 UTC.
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
CUTOFF = datetime(2026, 5, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def frozen(time_machine):
    """Freeze the clock at NOW (no ticking), so cutoffs are exact to the second."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def read_only():
    maintenance_set_mode(mode="read_only", reason="test")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The staff fixtures create users; the default hasher costs ~0.3 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def without_shield(settings):
    """The stack without the maintenance app's read-only shield, to reach the view's own refusal."""
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if not name.startswith("maintenance.")]
