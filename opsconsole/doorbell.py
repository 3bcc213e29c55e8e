"""Publishing a task after commit without ever waiting on the broker.

The database row is the work; the Celery message is only a doorbell that makes a worker
look sooner than the next beat sweep would. So a request must not wait on the broker:
measured before this module, every enqueue took ~2.5 s during a Redis outage (kombu's
publish retry policy and connection timeouts inside the request). `ring()` hands the
publish to one background thread per process and returns at once; the thread publishes
without kombu's retry loop, logs one line per outage (not one per message) and drops
what it cannot publish: the sweep finds those rows anyway.

The thread is started lazily per process (so a forked gunicorn worker gets its own) and
drains what is queued for up to DRAIN_SECONDS at exit, so a management command that
enqueues and exits still rings.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from typing import Any

logger = logging.getLogger(__name__)

# Far more than any burst of requests between two sweeps; beyond it the sweep delivers.
MAX_PENDING = 10_000
DRAIN_SECONDS = 2.0

_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "queue": None, "thread": None}
_outage: dict[str, Any] = {"since": None, "dropped": 0}


def ring(task_name: str, *args: Any) -> None:
    """Publish `task_name(*args)` soon, in the background; never raises, never blocks."""
    from opsconsole.celery import app

    if app.conf.task_always_eager:
        _publish(task_name, args)
        return
    try:
        _pending().put_nowait((task_name, args))
    except queue.Full:
        _note_failure(task_name, "too many doorbells queued")


def flush(timeout: float = DRAIN_SECONDS) -> bool:
    """Wait until every doorbell rung so far has been published (or dropped); True if all were."""
    pending = _state["queue"]
    if pending is None or _state["pid"] != os.getpid():
        return True
    deadline = time.monotonic() + timeout
    while pending.unfinished_tasks:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _pending() -> queue.Queue:
    pid = os.getpid()
    if _state["pid"] == pid:
        return _state["queue"]
    with _lock:
        if _state["pid"] != pid:
            pending: queue.Queue = queue.Queue(maxsize=MAX_PENDING)
            thread = threading.Thread(target=_run, args=(pending,), name="opsconsole-doorbell", daemon=True)
            _state.update(pid=pid, queue=pending, thread=thread)
            thread.start()
            atexit.register(flush)
    return _state["queue"]


def _run(pending: queue.Queue) -> None:
    while True:
        task_name, args = pending.get()
        try:
            _publish(task_name, args)
        finally:
            pending.task_done()


def _publish(task_name: str, args: tuple) -> None:
    from opsconsole.celery import app

    try:
        if app.conf.task_always_eager:
            app.loader.import_default_modules()
            app.tasks[task_name].apply(args=list(args))
        else:
            # retry=False: kombu's retry policy would hold this thread for seconds per message
            # while the broker is away; the sweep is the retry.
            app.send_task(task_name, args=list(args), retry=False)
    except Exception as exc:  # noqa: BLE001 - a broker of any kind can fail in many ways; the sweep recovers
        _note_failure(task_name, f"{exc.__class__.__name__}: {exc}")
        return
    if _outage["since"] is not None:
        logger.warning(
            "broker reachable again after %.0f s; %d doorbell(s) were dropped meanwhile (the sweep delivered them)",
            time.monotonic() - _outage["since"],
            _outage["dropped"],
        )
        _outage.update(since=None, dropped=0)


def _note_failure(task_name: str, reason: str) -> None:
    _outage["dropped"] += 1
    if _outage["since"] is None:
        _outage["since"] = time.monotonic()
        logger.warning("broker unavailable (%s); %s and what follows wait for the beat sweep", reason, task_name)
