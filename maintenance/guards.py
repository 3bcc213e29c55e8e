"""What read-only blocks, in one place: a decorator for every writing service.

`@writes_guarded` on a service refuses to run it (WritesBlocked, a 503 through the API)
while the maintenance mode is not normal, whoever calls it: a view, an admin action, a
task or a management command. The few writes that must go on in read-only (changing the
mode itself, expiring it, recording what a stopping worker already delivered) run inside
`writes_allowed()`, the explicit allow-list.

The read costs no query: the mode comes from the per-process memo or the shared cache
(maintenance/state.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from maintenance import state as state_cache
from maintenance.exceptions import WritesBlocked
from maintenance.models import Mode

P = ParamSpec("P")
R = TypeVar("R")

_allowed: ContextVar[str | None] = ContextVar("opsconsole_writes_allowed", default=None)


@contextmanager
def writes_allowed(reason: str) -> Iterator[None]:
    """Let guarded writes through in this block whatever the mode (the allow-list; say why)."""
    token = _allowed.set(reason)
    try:
        yield
    finally:
        _allowed.reset(token)


def refuse_writes_unless_normal() -> None:
    """Raise WritesBlocked when the mode is not normal and no `writes_allowed` block is open."""
    if _allowed.get() is not None:
        return
    snapshot = state_cache.local_snapshot().effective()
    if snapshot.mode != Mode.NORMAL:
        raise WritesBlocked(mode=snapshot.mode, retry_after=snapshot.retry_after, message=snapshot.message or "")


def writes_guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a writing service: it runs only in normal mode (or inside `writes_allowed`)."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        refuse_writes_unless_normal()
        return func(*args, **kwargs)

    guarded.writes_guarded = True  # type: ignore[attr-defined]
    return guarded
