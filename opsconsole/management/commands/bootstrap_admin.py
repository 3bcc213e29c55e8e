"""Create or update the `admin` superuser for the quick start."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from opsconsole.env import var_path


class Command(BaseCommand):
    help = (
        "Create or update user 'admin' (staff, superuser). The password comes from "
        "OPSCONSOLE_ADMIN_PASSWORD, else it is generated once, printed and saved to var/admin-password (0600)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        password_file = var_path("admin-password")
        password = settings.OPSCONSOLE_ADMIN_PASSWORD
        generated = False
        if not password and password_file.exists():
            password = password_file.read_text().strip()
        if not password:
            password = secrets.token_urlsafe(12)
            generated = True
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(password + "\n")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username, defaults={"email": ""})
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} superuser '{username}'."))
        if generated:
            self.stdout.write(f"Generated password (saved to {password_file}, shown once): {password}")
        elif not settings.OPSCONSOLE_ADMIN_PASSWORD:
            self.stdout.write(f"Password: see {password_file}")
