"""Rows of the test sources' `orders` table."""

from __future__ import annotations

import json

from sources.connections import Source

ORDERS = [
    # id, created_at (UTC), status, total, paid, note, details, weight
    (1, "2026-10-01 10:00:00", "done", 10, True, "=HYPERLINK()", {"items": 1}, "-1.5"),
    (2, "2026-11-05 09:00:00", "done", 20, False, "second", None, None),
    (3, "2026-11-20 12:00:00", "open", 30, None, None, {"items": 3}, "2.25"),
    (4, "2026-11-25 08:30:00", "done", 40, True, "fourth", None, None),
    (5, "2026-11-28 23:59:59", "cancelled", 50, False, "fifth", None, None),
]


def insert_orders(source: Source, rows=ORDERS) -> None:
    """Insert (and commit: a source is not inside the test's transaction) the rows."""
    suffix = "+00" if source.vendor == "postgresql" else ""
    with source.connection.cursor() as cursor:
        for order_id, created, status, total, paid, note, details, weight in rows:
            cursor.execute(
                "INSERT INTO orders (id, created_at, status, total, paid, note, details, weight) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    order_id,
                    created + suffix,
                    status,
                    total,
                    paid,
                    note,
                    json.dumps(details) if details is not None else None,
                    weight,
                ],
            )
