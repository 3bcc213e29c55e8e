"""gunicorn reads this file from the working directory: its own lines (start-up, worker
boots and exits, errors) in the console's log format, LOG_FORMAT=json included."""

from opsconsole.env import env_str
from opsconsole.logs import logging_config

logconfig_dict = logging_config(
    level=env_str("LOG_LEVEL", "INFO"), log_format=env_str("LOG_FORMAT", "text").strip().lower()
)
