"""`manage.py tighten_var_permissions`: make an existing var/ private (run by `make run`)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from opsconsole.env import VAR_DIR, tighten_var_permissions


class Command(BaseCommand):
    help = (
        "Remove group and other permissions from everything under var/ (files 0600, folders 0700 "
        "with the default OPSCONSOLE_UMASK=077): a var/ made by an older version was world-readable."
    )

    def handle(self, *args, **options) -> None:
        changed = tighten_var_permissions(VAR_DIR, umask=settings.UMASK)
        self.stdout.write(f"{len(changed)} path(s) under {VAR_DIR} tightened")
