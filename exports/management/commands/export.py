"""`manage.py export DATASET`: start an export from a shell, optionally run it here and save the file."""

from __future__ import annotations

import argparse
import getpass
import os
import shutil

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exports import services
from exports.exceptions import ExportError
from exports.formats import FORMATS
from exports.models import SNAPSHOT, JobStatus


class Command(BaseCommand):
    help = (
        "Start an export job (a dataset, or 'snapshot' with --dataset several times). By default a worker "
        "runs it; --run-now writes it in this process and --output copies the file out of storage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_type", help="A dataset name (see /system/exports/datasets) or 'snapshot'.")
        parser.add_argument("--format", default="csv", choices=sorted(FORMATS))
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A filter of the dataset (repeat); for a snapshot DATASET:KEY=VALUE.",
        )
        parser.add_argument("--dataset", action="append", default=[], help="A dataset of the snapshot (repeat).")
        parser.add_argument("--note", default="", help="Free text kept with the job (why, for whom).")
        # The old name of --note: who asked is the OS user running the command, not a claim.
        parser.add_argument("--requested-by", dest="note", help=argparse.SUPPRESS)
        parser.add_argument("--run-now", action="store_true", help="Write the file in this process, not a worker.")
        parser.add_argument("--output", help="With --run-now: copy the finished file to this path.")

    def handle(self, *args, **options) -> None:
        if options["output"] and not options["run_now"]:
            raise CommandError("--output needs --run-now")
        output = options["output"]
        if output:
            folder = os.path.dirname(os.path.abspath(output))
            if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
                raise CommandError(f"--output {output}: {folder} is not a writable folder")
            if os.path.isdir(output):
                raise CommandError(f"--output {output} is a folder; give a file path")
        filters = self._filters(options["filter"], snapshot=options["job_type"] == SNAPSHOT)
        try:
            job, created = services.export_job_create(
                job_type=options["job_type"],
                format=options["format"],
                filter_params=filters,
                datasets=options["dataset"],
                requested_by=self._requester(),
                note=options["note"] or "",
            )
        except ExportError as exc:
            details = "; ".join(f"{key}: {' '.join(map(str, msgs))}" for key, msgs in exc.fields.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from exc
        self.stdout.write(f"export #{job.pk} {'created' if created else 'already ' + job.status}")
        if not options["run_now"]:
            return
        services.export_job_run(job_id=job.pk)
        job.refresh_from_db()
        if job.status != JobStatus.COMPLETED:
            raise CommandError(f"export #{job.pk} {job.status}: {job.error_message or 'no file'}")
        self.stdout.write(f"completed: {job.rows_written} rows, {job.file_size} bytes, sha256 {job.sha256}")
        if options["output"]:
            with default_storage.open(job.file, "rb") as source, open(options["output"], "wb") as target:
                shutil.copyfileobj(source, target)
            self.stdout.write(f"written to {options['output']}")

    @staticmethod
    def _requester() -> str:
        """`manage.py:<OS user>`: whoever runs the command on this machine."""
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
            login = f"uid {os.getuid()}"
        return f"manage.py:{login}"

    @staticmethod
    def _filters(pairs: list[str], *, snapshot: bool) -> dict:
        filters: dict = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise CommandError(f"--filter {pair!r}: expected KEY=VALUE")
            if snapshot:
                dataset, colon, key = key.rpartition(":")
                if not colon:
                    raise CommandError(f"--filter {pair!r}: a snapshot filter is DATASET:KEY=VALUE")
                filters.setdefault(dataset, {})[key] = value
            else:
                filters[key] = value
        return filters
