"""Helpers for migrations that must run on PostgreSQL and SQLite alike."""

from __future__ import annotations

from django.db import migrations


def postgres_only(sql: str, reverse_sql: str) -> migrations.RunPython:
    """SQL that only PostgreSQL understands (extensions, trigram indexes); a no-op elsewhere.

    Django's model state does not know these indexes, so ``makemigrations --check`` stays clean.
    """

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forward, backward, elidable=False)
