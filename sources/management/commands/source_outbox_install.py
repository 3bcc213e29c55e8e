"""Create a source's `opsconsole_outbox` table (idempotently) and print the INSERT a service uses."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sources.exceptions import SourcesError
from sources.services import source_outbox_install

EXIT_REFUSED = 3


class Command(BaseCommand):
    help = "Create the opsconsole_outbox table in a source's database (idempotent) and print the INSERT to use."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", required=True, help="The source's name (OPSCONSOLE_SOURCE_<NAME>_URL).")

    def handle(self, *args, source: str, **options) -> None:
        try:
            insert = source_outbox_install(source=source)
        except SourcesError as exc:
            raise CommandError(exc.detail, returncode=EXIT_REFUSED) from exc
        self.stdout.write(f"opsconsole_outbox is ready in source {source!r}. In the transaction of your own write:")
        self.stdout.write(f"  {insert}")
        self.stdout.write(
            "  -- channel: a channel name; subject, body: text; payload: a JSON object. "
            "OpsConsole relays each committed row once (idempotency key <source>:<id>) and deletes it."
        )
