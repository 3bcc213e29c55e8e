#!/usr/bin/env python
"""Django's command-line utility for OpsConsole."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
    from opsconsole.env import restrict_new_files

    # Before Django loads anything: what a command writes under var/ is private to this user.
    restrict_new_files()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
