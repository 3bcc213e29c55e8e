import pytest
from django.core.cache import cache

from maintenance import state as state_cache


@pytest.fixture(autouse=True)
def _cold_maintenance_state():
    """The maintenance tests start cold: no memo, nothing cached (they test those layers)."""
    state_cache.forget_local_state()
    cache.delete(state_cache.CACHE_KEY)
    yield
    state_cache.forget_local_state()
