"""`manage.py drf_create_token USER [-r]`: DRF's command, for hashed tokens.

Same name, arguments and output as DRF's own (this app comes before
rest_framework.authtoken in INSTALLED_APPS, so this one is found first):
`Generated token <key> for user <user>`. Keys are stored hashed, so an existing key
cannot be printed again: every call makes a new token (the user's others keep
working), and `-r` revokes the user's other tokens first.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apitokens.services import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", type=str)
        parser.add_argument(
            "-r",
            "--reset",
            action="store_true",
            dest="reset_token",
            default=False,
            help="Revoke the user's existing tokens and create a new one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist as exc:
            raise CommandError(f"Cannot create the Token: user {username} does not exist") from exc
        _token, key = token_create(user=user, replace=options["reset_token"])
        self.stdout.write(f"Generated token {key} for user {username}")
