"""Run the dispatch sweep without Celery: in a loop, or once with --once."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from notifications.conf import notify_settings
from notifications.delivery.dispatcher import notification_dispatch_due


class Command(BaseCommand):
    help = "Deliver due notifications (and reclaim expired leases) without Celery. Loops until Ctrl-C unless --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one sweep and exit.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds to sleep between sweeps in loop mode (default 5)."
        )
        parser.add_argument(
            "--concurrency", type=int, default=None, help="Deliveries in flight at once (default DELIVERY_CONCURRENCY)."
        )

    def handle(self, *args, once: bool, interval: float, concurrency: int | None, **options):
        if once:
            self.sweep(concurrency, max_seconds=None)
            return
        self.stdout.write(f"Dispatching notifications every {interval:g}s; Ctrl-C stops.")
        try:
            while True:
                self.sweep(concurrency, max_seconds=float(notify_settings.SWEEP_MAX_SECONDS))
                time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def sweep(self, concurrency: int | None, max_seconds: float | None) -> None:
        summary = notification_dispatch_due(max_seconds=max_seconds, concurrency=concurrency)
        if summary.paused_for_maintenance:
            self.stdout.write(self.style.WARNING(f"Dispatch paused: maintenance mode is not normal. {summary}"))
        elif summary.claimed:
            self.stdout.write(f"Dispatched: {summary}")
        else:
            self.stdout.write("Nothing due.")
