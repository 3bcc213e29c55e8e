"""Loaded with `-p tests.pytest_env` (pyproject addopts), before pytest-django reads the
settings: tests use their own broker folder, so a `make run` worker on var/broker never
takes a test's task (and runs it against the development database), nor a test a
message `make run` left behind. conftest.py would be too late: pytest-django has loaded
the settings by then.

Under pytest-xdist (`-n 2`, the default of `make test`) every worker process also gets
its own var/ folder (SQLite test database, media, mail, beat schedule, export temp
files), its own broker folder and, on Redis, its own pair of Redis databases: a real
Celery worker started by one xdist worker must never take another's task (and run it
against the wrong database), and one worker clearing its cache must never wipe the
maintenance mode another is testing. Child processes (Celery workers, manage.py) inherit
these variables, so they land in the same place as the test that started them.
PostgreSQL test databases need nothing here: pytest-django names them test_NAME_gw0, ...
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# Set by pytest-xdist in each of its worker processes ("gw0", "gw1", ...); absent when serial.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_APPLIED = "OPSCONSOLE_TEST_ISOLATED_FOR"


def redis_url_for_worker(url: str, *, index: int, stride: int) -> str:
    """`url` with its database number moved up by `index * stride` (redis://h:p/1 -> /3 for gw1, stride 2)."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    db = int(path) if path.isdigit() else 0
    new_db = db + index * stride
    if new_db > 15:
        raise RuntimeError(
            f"pytest-xdist worker {index} would need Redis database {new_db} for {url} (Redis has 16): "
            "run fewer workers (-n) or use lower database numbers"
        )
    return urlunsplit(parts._replace(path=f"/{new_db}"))


def _redis_dbs(urls: list[str]) -> list[int]:
    dbs = []
    for url in urls:
        path = urlsplit(url).path.strip("/")
        dbs.append(int(path) if path.isdigit() else 0)
    return dbs


def isolate_worker(worker: str) -> None:
    if os.environ.get(_APPLIED) == worker:  # a child process of this worker: already done
        return
    os.environ[_APPLIED] = worker
    index = int(re.sub(r"\D", "", worker) or 0)
    var = Path(os.environ.get("OPSCONSOLE_VAR_DIR", BASE_DIR / "var")) / "test-workers" / worker
    os.environ["OPSCONSOLE_VAR_DIR"] = str(var)
    os.environ["OPSCONSOLE_BROKER_DIR"] = str(Path(os.environ["OPSCONSOLE_BROKER_DIR"]) / worker)
    names = [
        n for n in ("CELERY_BROKER_URL", "CACHE_URL") if os.environ.get(n, "").startswith(("redis://", "rediss://"))
    ]
    if names:
        # Each worker takes the next block of databases: broker 0 + cache 1 -> gw1 uses 2 and 3.
        dbs = _redis_dbs([os.environ[n] for n in names])
        stride = max(dbs) - min(dbs) + 1
        for name in names:
            os.environ[name] = redis_url_for_worker(os.environ[name], index=index, stride=stride)


os.environ.setdefault("OPSCONSOLE_BROKER_DIR", str(BASE_DIR / "var" / "test-broker"))
if WORKER:
    isolate_worker(WORKER)

# Tests send many requests as one user: the real rates would throttle them. The tests of
# throttling set their own low rates (override_settings).
os.environ.setdefault("OPSCONSOLE_API_THROTTLE_WRITE", "100000/min")
os.environ.setdefault("OPSCONSOLE_API_THROTTLE_READ", "100000/min")
os.environ.setdefault("OPSCONSOLE_API_AUTH_FAILURE_LIMIT", "100000")
# A developer's .env must not change what the tests see (nor the workers they start).
os.environ.setdefault("OPSCONSOLE_ENV_FILE", "")
