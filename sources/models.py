"""A table of a source database registered with OpsConsole (an export dataset and a retention category)."""

from __future__ import annotations

from django.db import models


class SourceTable(models.Model):
    source = models.CharField(max_length=63, help_text="The source's name (OPSCONSOLE_SOURCE_<NAME>_URL).")
    table = models.CharField(
        max_length=255, help_text="As introspection found it: `schema.table` on PostgreSQL, `table` on SQLite."
    )
    timestamp_column = models.CharField(max_length=255, help_text="The date/time column that ages a row.")
    columns = models.JSONField(default=list, help_text="The exported columns, in the table's order.")
    purge_condition = models.JSONField(
        null=True,
        blank=True,
        help_text='Rows a purge may delete besides age, e.g. {"column": "status", "in": ["done"]}.',
    )
    description = models.TextField(blank=True, default="")
    # What introspection found when the table was registered (or last changed), so a dataset or
    # category is built without asking the source: the key column and {column: kind} of every
    # column used (key, timestamp, exported, condition); kind "text" for types exported as text.
    primary_key = models.CharField(max_length=255, default="", editable=False)
    column_kinds = models.JSONField(default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "source_tables"
        ordering = ["source", "table"]
        constraints = [models.UniqueConstraint(fields=["source", "table"], name="source_tables_unique_table")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The dataset and retention category name: `<source>.<table>`, PostgreSQL's `public.` left out."""
        table = self.table.removeprefix("public.")
        return f"{self.source}.{table}"
