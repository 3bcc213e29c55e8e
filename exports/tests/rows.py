"""Source rows with everything that breaks naive writers, and how each format should read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from exports.cells import pg_timestamptz_text
from exports.registry import get_dataset
from exports.tests.factories import ChannelFactory, OutboxFactory
from notifications.models import NotificationOutbox

TRICKY = [
    # (subject, body, payload)
    ("plain", "body", {"n": 1}),
    (None, "", None),
    ("", 'comma, and "quotes"', {"nested": {"list": [1, 2.5, None, True]}, "ü": "ß"}),
    ("naïve café ☕ 𝄞", "line one\nline two\r\nline three", ["a", "b"]),
    ("\\.", "trailing space ", "just a string"),
    ("tab\there", '"', 42),
]


def make_tricky_outbox(status: str = "sent") -> list[NotificationOutbox]:
    channel = ChannelFactory(name="tricky, channel")
    rows = []
    for subject, body, payload in TRICKY:
        rows.append(OutboxFactory(channel=channel, subject=subject, body=body, payload=payload, status=status))
    # A timestamp with no microseconds prints without a fraction in PostgreSQL.
    NotificationOutbox.objects.filter(pk=rows[0].pk).update(sent_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return list(NotificationOutbox.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))


def outbox_columns() -> list[str]:
    return get_dataset("notifications.outbox").column_names


def native(row: NotificationOutbox, column: str):
    """A column's value as Python sees it; JSON parsed."""
    return getattr(row, column)


def as_csv_text(row: NotificationOutbox, column: str) -> str:
    """What a csv reader returns for a column (NULL and '' both read as '')."""
    value = getattr(row, column)
    if value is None:
        return ""
    if column == "payload":
        return value  # compared after json.loads
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return pg_timestamptz_text(value)
    return str(value)


def parse_json_column(text: str):
    return json.loads(text) if text else None
