"""A process-wide "stop taking new work" flag for long-running loops.

A Celery warm shutdown (SIGTERM to the worker's main process, Ctrl-C, `celery control
shutdown`) waits for the running tasks to end, but nothing tells a task that it should
end: the delivery sweep kept claiming rows for its whole budget (measured: 1,524 rows
claimed after a SIGTERM, 53 s to stop). The worker sets this flag instead, in its own
process (solo pool) and, through STOP_SIGNAL, in every pool process (prefork); loops that
claim work check `stopping()` between claims, release what they have not started and
return (opsconsole/celery.py wires it).
"""

from __future__ import annotations

import signal
import threading

STOP_SIGNAL = signal.SIGUSR2

_stop = threading.Event()


def request_stop(*_args: object) -> None:
    """Ask every claiming loop of this process to finish what is in flight and stop claiming."""
    _stop.set()


def stopping() -> bool:
    return _stop.is_set()


def reset() -> None:
    """Clear the flag (a new pool process; tests)."""
    _stop.clear()


def install_stop_signal_handler() -> None:
    """Make STOP_SIGNAL set the flag in this process (a pool process at start-up)."""
    reset()
    signal.signal(STOP_SIGNAL, request_stop)
