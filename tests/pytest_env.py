"""Loaded with `-p tests.pytest_env` (pyproject addopts), before pytest-django reads the
settings: tests use their own broker folder, so a `make run` worker on var/broker never
takes a test's task (and runs it against the development database), nor a test a
message `make run` left behind. conftest.py would be too late: pytest-django has loaded
the settings by then."""

import os
from pathlib import Path

os.environ.setdefault("OPSCONSOLE_BROKER_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test-broker"))

# Tests send many requests as one user: the real rates would throttle them. The tests of
# throttling set their own low rates (override_settings).
os.environ.setdefault("OPSCONSOLE_API_THROTTLE_WRITE", "100000/min")
os.environ.setdefault("OPSCONSOLE_API_THROTTLE_READ", "100000/min")
os.environ.setdefault("OPSCONSOLE_API_AUTH_FAILURE_LIMIT", "100000")
# A developer's .env must not change what the tests see (nor the workers they start).
os.environ.setdefault("OPSCONSOLE_ENV_FILE", "")
