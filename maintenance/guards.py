"""What read-only blocks, in one place.

While the maintenance mode is not normal (read_only or maintenance):

1. the web: the shield (maintenance/middleware.py) answers POST, PUT, PATCH and DELETE with
   503 + Retry-After, except the maintenance endpoint, the admin's maintenance screen and
   the admin login, so staff can turn it off;
2. every writing service decorated `@writes_guarded` refuses to run (WritesBlocked, a 503
   through the API), whoever calls it: a view, an admin action, a task or a command;
3. inside a web request the shield let through (a GET while read_only), a Celery task or
   a management command started from a shell, the database itself refuses every statement
   that is not a read (`database_writes_blocked`, django-read-only's approach: a
   `connection.execute_wrapper`), so a write that no service guards cannot slip through.
   A request gets the 503; a command ends with "CommandError: Refused: ..." on stderr and
   exit status 3; a task fails with WritesBlocked.

The allow-list, the writes that go on whatever the mode:

- `writes_allowed(reason)` blocks, which lift 2 and 3 for the code inside: the mode
  change itself and its scheduled expiry (maintenance/services.py);
- ALLOWED_COMMANDS: the mode change (`maintenance_mode`), setting up and repairing an
  installation (`migrate`, `bootstrap_admin`, `createsuperuser`, `drf_create_token`,
  `collectstatic`, `tighten_var_permissions`), the web servers (`runserver`,
  `testserver`: the shield guards their requests) and the two whose engines stop on their
  own and must record how they stopped (`dispatch_notifications`, `purge_retention`);
- ALLOWED_TASKS: `maintenance.tasks.expire_maintenance` (the mode change), every
  `notifications.tasks.*` (the dispatcher claims nothing outside normal, but a worker that
  is stopping must still record what it delivered and hand back what it claimed) and the
  purge tasks (`retention.tasks.purge_*`: a purge refuses to start outside normal and
  stops between batches when the mode changes; it records the runs it refused or stopped).
  The command and task entries of the dispatcher and the purge are wider than they need
  to be: once their services open `writes_allowed` around that bookkeeping, drop them;
- what runs outside any door: the shield's exempt paths, celery beat (django-celery-beat's
  scheduler records each entry's last run) and threads started by a task (the
  dispatcher's delivery threads, an export's heartbeat).

`retention.tasks.fail_interrupted_runs` needs no entry: it does nothing outside normal.

Every check reads the mode from the per-process memo or the shared cache
(maintenance/state.py): no query, and the database blocker reads it only for a write.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from fnmatch import fnmatchcase
from typing import Any, ParamSpec, TypeVar

from maintenance import state as state_cache
from maintenance.exceptions import WritesBlocked
from maintenance.models import Mode

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# A command that tried to write outside normal mode exits with this status (as a refused purge).
EXIT_REFUSED = 3

ALLOWED_COMMANDS = frozenset(
    {
        "maintenance_mode",
        "migrate",
        "bootstrap_admin",
        "createsuperuser",
        "drf_create_token",
        "collectstatic",
        "tighten_var_permissions",
        "runserver",
        "testserver",
        "dispatch_notifications",
        "purge_retention",
    }
)
ALLOWED_TASKS = (
    "maintenance.tasks.expire_maintenance",
    "notifications.tasks.*",
    "retention.tasks.purge_*",
)
# Statements that cannot change data, by first keyword (django-read-only's list, plus SHOW
# and server-side cursors of SELECTs). Anything else (INSERT, UPDATE, DELETE, DDL, COPY,
# WITH ... which may hide a write) is a write.
READ_STATEMENTS = frozenset(
    {
        "SELECT",
        "EXPLAIN",
        "SHOW",
        "PRAGMA",
        "SET",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",  # and ROLLBACK TO SAVEPOINT
        "SAVEPOINT",
        "RELEASE",  # RELEASE SAVEPOINT
        "DECLARE",
        "FETCH",
        "CLOSE",
    }
)

_allowed: ContextVar[str | None] = ContextVar("opsconsole_writes_allowed", default=None)
# The door (task or command) whose database writes are blocked outside normal mode.
_blocked_door: ContextVar[str | None] = ContextVar("opsconsole_writes_blocked_door", default=None)


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
        raise WritesBlocked(mode=snapshot.mode, retry_after=snapshot.retry_after_now(), message=snapshot.message or "")


def writes_guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a writing service: it runs only in normal mode (or inside `writes_allowed`)."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        refuse_writes_unless_normal()
        return func(*args, **kwargs)

    guarded.writes_guarded = True  # type: ignore[attr-defined]
    return guarded


# --- the database-layer blocker ---------------------------------------------------------


def is_write(sql: str) -> bool:
    """True unless the statement's first keyword is one of READ_STATEMENTS (a CTE counts as a write)."""
    words = sql.lstrip(" \t\r\n(").split(None, 1)
    return not words or words[0].upper().rstrip(";") not in READ_STATEMENTS


def command_allowed(name: str) -> bool:
    return name in ALLOWED_COMMANDS


def task_allowed(name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in ALLOWED_TASKS)


def block_database_writes(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """The execute_wrapper on every connection: inside a blocked door, a write runs only in normal mode."""
    if _blocked_door.get() is not None and _allowed.get() is None and is_write(sql):
        try:
            refuse_writes_unless_normal()
        except WritesBlocked:
            logger.warning("%s tried to write outside normal mode: %.80s", _blocked_door.get(), sql)
            raise
    return execute(sql, params, many, context)


@contextmanager
def database_writes_blocked(door: str) -> Iterator[None]:
    """Refuse database writes outside normal mode for the code inside (this thread and context)."""
    token = _blocked_door.set(door)
    try:
        yield
    finally:
        _blocked_door.reset(token)


def blocked_door() -> str | None:
    """The task or command whose writes are blocked outside normal mode here, if any."""
    return _blocked_door.get()


# Celery runs task_prerun and task_postrun in the task's own thread and context.
_task_tokens: dict[str, Token[str | None]] = {}


def enter_task(task_id: str, task_name: str) -> None:
    """task_prerun: block the task's writes unless it is allow-listed."""
    if not task_allowed(task_name):
        _task_tokens[task_id] = _blocked_door.set(f"task {task_name}")


def leave_task(task_id: str) -> None:
    """task_postrun: lift what `enter_task` set."""
    token = _task_tokens.pop(task_id, None)
    if token is None:
        return
    try:
        _blocked_door.reset(token)
    except ValueError:  # not the context that set it (should not happen): clear it all the same
        _blocked_door.set(None)


def command_name(command: Any) -> str:
    """`migrate` for django.core.management.commands.migrate.Command."""
    return type(command).__module__.rpartition(".")[2]


def refusal_message(name: str, exc: WritesBlocked) -> str:
    return (
        f"Refused: maintenance mode is {exc.mode!r}; `{name}` may not write to the database until it is "
        "'normal' again (the refused statement was not run; its transaction was rolled back)."
    )


def _guard_run_from_argv(run_from_argv: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(run_from_argv)
    def guarded_run_from_argv(command: Any, argv: list[str]) -> Any:
        name = command_name(command)
        if command_allowed(name):
            return run_from_argv(command, argv)
        with database_writes_blocked(f"command {name}"):
            try:
                return run_from_argv(command, argv)
            except WritesBlocked as exc:
                if "--traceback" in argv:
                    raise
                # What run_from_argv does with a CommandError: one line on stderr, an exit status.
                sys.stderr.write(f"CommandError: {refusal_message(name, exc)}\n")
                sys.exit(EXIT_REFUSED)

    guarded_run_from_argv.guards_writes = True  # type: ignore[attr-defined]
    return guarded_run_from_argv


def install_write_blocker() -> None:
    """Put the blocker on every database connection, every management command and every Celery task.

    Idempotent. Why these hooks:
    1. the execute_wrapper goes on each connection object, in this thread now and in every
       other thread when it connects (connection_created), as django-read-only does;
    2. there is no signal around a management command, so BaseCommand.run_from_argv is
       wrapped: every command started from a shell (manage.py, django-admin) is a door.
       call_command() from code runs inside its caller's door (a task, a test) instead:
       the test runner's own flush between tests is not an operator's write;
    3. Celery's task_prerun/task_postrun run in the task's thread, around every task,
       eager ones included.
    """
    from celery.signals import task_postrun, task_prerun
    from django.core.management.base import BaseCommand
    from django.db import connections
    from django.db.backends.signals import connection_created

    for alias in connections:
        _install_on_connection(connections[alias])
    connection_created.connect(_on_connection_created, dispatch_uid="maintenance_write_blocker")
    if not getattr(BaseCommand.run_from_argv, "guards_writes", False):
        BaseCommand.run_from_argv = _guard_run_from_argv(BaseCommand.run_from_argv)  # type: ignore[method-assign]
    task_prerun.connect(_on_task_prerun, dispatch_uid="maintenance_write_blocker_prerun", weak=False)
    task_postrun.connect(_on_task_postrun, dispatch_uid="maintenance_write_blocker_postrun", weak=False)


def _install_on_connection(connection: Any) -> None:
    if block_database_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(block_database_writes)


def _on_connection_created(*, connection: Any, **_kwargs: Any) -> None:
    _install_on_connection(connection)


def _on_task_prerun(*, task_id: str, task: Any, **_kwargs: Any) -> None:
    enter_task(task_id, task.name)


def _on_task_postrun(*, task_id: str, **_kwargs: Any) -> None:
    leave_task(task_id)
