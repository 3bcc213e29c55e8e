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

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

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


@contextlib.contextmanager
def termination_deferred() -> Iterator[None]:
    """While the block runs, SIGTERM only asks it to stop claiming; the signal takes effect after.

    A pool process that gets SIGTERM itself (the whole process group signalled, or a
    process manager's stop) would otherwise raise SystemExit wherever the claiming loop
    happens to be, between taking a finished delivery off its queue and writing it down:
    that result was lost, the row stayed `sending` and went out twice. Deferred, the loop
    sees `stopping()`, hands back what it has not started, records what it finished and
    returns; then the saved handler runs (billiard's exits the process).

    Only the main thread can install handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def defer(signum: int, _frame: object) -> None:
        received.append(signum)
        request_stop()

    previous = signal.signal(signal.SIGTERM, defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if received:
            _deliver(previous)


def _deliver(handler: object) -> None:
    """Act on a deferred SIGTERM as the handler saved before the block would have."""
    if callable(handler):
        handler(signal.SIGTERM, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGTERM)
