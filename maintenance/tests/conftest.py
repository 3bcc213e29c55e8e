import pytest

from maintenance import state as state_cache


@pytest.fixture(autouse=True)
def _fresh_maintenance_memo():
    """Each test starts with no per-process memo of the mode."""
    state_cache.forget_local_state()
    yield
    state_cache.forget_local_state()
