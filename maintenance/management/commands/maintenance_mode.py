"""manage.py maintenance_mode {normal,read_only,maintenance} --reason TEXT [--until ISO] | --status"""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from maintenance.exceptions import MaintenanceError
from maintenance.selectors import maintenance_state_get
from maintenance.services import MODES, maintenance_set_mode


class Command(BaseCommand):
    help = "Show or change the maintenance mode from a shell (works while the web is down)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mode", nargs="?", help=f"The new mode: {', '.join(MODES)}.")
        parser.add_argument("--reason", help="Why (required to change the mode); recorded in the history.")
        parser.add_argument("--until", help="ISO 8601 time at which the mode returns to normal by itself.")
        parser.add_argument("--message", default="", help="Shown to users on the maintenance page and in 503s.")
        parser.add_argument("--retry-after", type=int, help="Seconds clients are told to wait (Retry-After).")
        parser.add_argument("--status", action="store_true", help="Print the mode in force and exit.")

    def handle(self, *args, mode: str | None, status: bool, **options) -> None:
        if status:
            if mode:
                raise CommandError("Give either a mode or --status, not both.")
            self._print_status()
            return
        if not mode:
            raise CommandError(f"Give a mode ({', '.join(MODES)}) with --reason, or --status.")
        until = self._parse_until(options["until"])
        try:
            state = maintenance_set_mode(
                mode=mode,
                reason=options["reason"] or "",
                message=options["message"],
                until=until,
                retry_after=options["retry_after"],
                source="command",
            )
        except MaintenanceError as exc:
            details = "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in exc.fields.items())
            raise CommandError(f"Refused: {details or exc.detail}") from exc
        ends = f" until {state.until.isoformat()}" if state.until else ""
        self.stdout.write(self.style.SUCCESS(f"Maintenance mode is now {state.mode}{ends}."))

    def _parse_until(self, raw: str | None) -> datetime | None:
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise CommandError(f"--until: not an ISO 8601 time: {raw!r} (e.g. 2026-01-31T18:00:00+00:00).") from exc
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def _print_status(self) -> None:
        state = maintenance_state_get()
        self.stdout.write(state.mode)
        if state.message:
            self.stdout.write(f"message: {state.message}")
        if state.until:
            self.stdout.write(f"until: {state.until.isoformat()}")
        if state.mode != "normal":
            self.stdout.write(f"retry_after: {state.retry_after}")
        if state.updated_at:
            by = state.updated_by or "(command/schedule)"
            self.stdout.write(f"updated: {state.updated_at.isoformat()} by {by}")
