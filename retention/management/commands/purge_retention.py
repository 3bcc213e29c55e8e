"""manage.py purge_retention: enforce the retention policies now, or preview what would go."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.exceptions import PurgeRefused, UnknownCategory
from retention.models import PurgeRun, PurgeTrigger
from retention.services import PurgeResult, purge_now, purge_preview

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
BAR_WIDTH = 30


# A batch is one short transaction; more than a million rows in one is no longer short.
MAX_BATCH_SIZE = 1_000_000


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if not 1 <= number <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_BATCH_SIZE:,}")
    return number


def _non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number, not negative")
    return number


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"command ({user}@{socket.gethostname()})"


class Command(BaseCommand):
    help = (
        "Purge rows older than their retention policy, in batches. "
        f"Exit status: 0 done (also when stopped at the time budget), {EXIT_FAILED} a category failed, "
        f"{EXIT_USAGE} bad arguments (e.g. an unknown category), "
        f"{EXIT_REFUSED} refused (maintenance mode is not normal, or another purge is running)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--category",
            action="append",
            dest="categories",
            metavar="C",
            help="Only this category (repeatable). Default: every policy.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the rows due; delete nothing.")
        parser.add_argument(
            "--batch-size", type=_positive_int, default=None, help="Rows per batch transaction (RETENTION BATCH_SIZE)."
        )
        parser.add_argument(
            "--max-seconds",
            type=_non_negative_float,
            default=None,
            help="Stop after this many seconds, leaving the runs 'partial' (RETENTION MAX_SECONDS; 0: no limit).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options) -> None:
        self.as_json = options["json"]
        self.bar = self.stdout.isatty() and not self.as_json
        self.run_started: dict[int, float] = {}
        self.durations: dict[int, float] = {}
        try:
            if options["dry_run"]:
                result = purge_preview(
                    categories=options["categories"], trigger=PurgeTrigger.COMMAND, actor_name=_operator()
                )
            else:
                result = purge_now(
                    categories=options["categories"],
                    trigger=PurgeTrigger.COMMAND,
                    actor_name=_operator(),
                    batch_size=options["batch_size"],
                    max_seconds=options["max_seconds"],
                    progress=None if self.as_json else self.show_progress,
                )
        except UnknownCategory as exc:
            self.print_refusal(exc.detail)
            raise CommandError(exc.detail, returncode=EXIT_USAGE) from exc
        except PurgeRefused as exc:
            self.print_refusal(exc.detail)
            raise CommandError(exc.detail, returncode=EXIT_REFUSED) from exc

        if self.as_json:
            self.stdout.write(json.dumps({"dry_run": options["dry_run"], **result.as_dict()}, indent=2))
        elif options["dry_run"]:
            self.print_preview(result)
        else:
            self.print_summary(result)
        if result.stopped_by_mode:
            raise CommandError(
                f"Stopped: maintenance mode became {result.stopped_by_mode!r}; run again once it is 'normal'.",
                returncode=EXIT_REFUSED,
            )
        failed = [run for run in result.runs if run.status not in ("completed", "partial")]
        if failed:
            raise CommandError(
                f"{len(failed)} categor{'y' if len(failed) == 1 else 'ies'} failed: "
                + "; ".join(f"{run.category}: {run.error}" for run in failed),
                returncode=EXIT_FAILED,
            )

    # -- output -----------------------------------------------------------------
    def print_refusal(self, detail: str) -> None:
        if self.as_json:
            self.stdout.write(json.dumps({"ok": False, "refused": detail}))

    def print_skipped(self, result: PurgeResult) -> None:
        for skipped in result.skipped:
            self.stdout.write(f"skipped {skipped.category}: {skipped.reason}")

    def print_preview(self, result: PurgeResult) -> None:
        self.stdout.write("Dry run: nothing deleted.")
        if not result.runs:
            self.print_nothing_to_do(result)
            return
        rows = [(run.category, f"{run.cutoff:%Y-%m-%d %H:%M:%S}", f"{run.matched:,}") for run in result.runs]
        self.print_table(("category", "cutoff (UTC)", "rows due"), rows)
        self.print_skipped(result)
        self.stdout.write(f"Total rows due: {sum(run.matched for run in result.runs):,}")

    def print_nothing_to_do(self, result: PurgeResult) -> None:
        self.print_skipped(result)
        self.stdout.write(
            "No retention policy to enforce. Set one in the admin or with POST /system/retention/; "
            "GET /system/retention/categories lists the categories."
        )

    def print_summary(self, result: PurgeResult) -> None:
        if not result.runs:
            self.print_nothing_to_do(result)
            return
        rows = [
            (
                run.category,
                run.status,
                f"{run.cutoff:%Y-%m-%d %H:%M:%S}" if run.cutoff else "-",
                f"{run.matched:,}",
                f"{run.deleted:,}",
                f"{self.durations.get(run.pk, 0.0):.1f}",
            )
            for run in result.runs
        ]
        self.stdout.write("")
        self.print_table(("category", "status", "cutoff (UTC)", "due", "deleted", "seconds"), rows)
        self.print_skipped(result)
        for run in result.runs:
            if run.error:
                self.stdout.write(f"{run.category}: {run.error}")
        style = self.style.SUCCESS if result.ok else self.style.ERROR
        self.stdout.write(
            style(f"Deleted {result.deleted:,} rows; longest batch {result.longest_batch_seconds * 1000:.0f} ms.")
        )

    def print_table(self, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
        line = "  ".join(f"{{:<{width}}}" for width in widths)
        self.stdout.write(line.format(*header).rstrip())
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line.format(*row).rstrip())

    def show_progress(self, run: PurgeRun) -> None:
        """Progress of one run: a bar redrawn in place on a terminal, plain lines otherwise."""
        now = time.monotonic()
        first_call = run.pk not in self.run_started
        if first_call:
            self.run_started[run.pk] = now
        self.durations[run.pk] = now - self.run_started[run.pk]
        finished = run.finished_at is not None
        if self.bar:
            share = 1.0 if not run.matched else min(1.0, run.deleted / run.matched)
            filled = int(BAR_WIDTH * share)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stdout.write(
                f"\r{run.category:<24} [{bar}] {share:4.0%} {run.deleted:,}/{run.matched:,}",
                ending="\n" if finished else "",
            )
            self.stdout.flush()
        elif first_call:
            self.stdout.write(f"{run.category}: {run.matched:,} rows due before {run.cutoff:%Y-%m-%d %H:%M:%S} UTC")
        elif finished:
            self.stdout.write(f"{run.category}: {run.status}, deleted {run.deleted:,}")
