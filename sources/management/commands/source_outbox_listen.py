"""Relay each PostgreSQL source's outbox the moment a row commits (LISTEN/NOTIFY), until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from sources.services.listener import listenable_sources, source_outbox_listen


class Command(BaseCommand):
    help = (
        "Listen for commits to every writable PostgreSQL source's opsconsole_outbox and relay them at once "
        "(beat's relay every OPSCONSOLE_SOURCE_RELAY_SECONDS stays the safety net). Stops on SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=1.0,
            help="How often to look at the stop signal and retry lost connections (default 1).",
        )

    def handle(self, *args, poll_seconds: float, **options) -> None:
        sources = listenable_sources()
        if not sources:
            self.stdout.write("No writable PostgreSQL source is configured: nothing to listen to.")
            return
        stop = threading.Event()

        def on_signal(_signum, _frame) -> None:
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        names = ", ".join(source.name for source in sources)
        self.stdout.write(f"Listening for outbox commits on: {names}")
        source_outbox_listen(stop=stop, sources=sources, poll_seconds=poll_seconds)
        self.stdout.write("Stopped.")
