"""Make sure the quick start has a superuser, without ever undoing a password someone chose."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from opsconsole.env import var_path


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' when it does not exist. Its password is OPSCONSOLE_ADMIN_PASSWORD, or "
        "generated, printed once and saved to var/admin-password (0600). An existing user's password is changed "
        "only when OPSCONSOLE_ADMIN_PASSWORD is set (a password changed in the admin survives `make run`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        password_file = var_path("admin-password")
        given = settings.OPSCONSOLE_ADMIN_PASSWORD or ""
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            if given:
                user.set_password(given)
                user.save(update_fields=["password"])
                self.stdout.write(
                    self.style.SUCCESS(f"Set the password of '{username}' from OPSCONSOLE_ADMIN_PASSWORD.")
                )
            else:
                self.stdout.write(f"Superuser '{username}' exists; its password is unchanged.")
            return
        password = given or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Created superuser '{username}'."))
        if given:
            return
        # A new user means an old file (if any) no longer tells its password.
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        self.stdout.write(f"Generated password (saved to {password_file}, shown once): {password}")
