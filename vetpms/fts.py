"""Substring search over a model's ``search_text`` that an index answers on both databases.

PostgreSQL answers ``search_text LIKE '%smi%'`` from a trigram GIN index (clients and animals migrations). SQLite
has no such index, so on the embedded default every search that has to look inside the text (a phone number, a
microchip, an email, a second word) read every owner and pet: 60-100 ms at practice scale. There each registered
table gets an FTS5 table with the trigram tokenizer over its ``search_text`` (``<table>_search``, external
content: it stores the trigrams, not a second copy of the text), kept by triggers in the same statement as every
insert, update and delete, and the condition becomes ``id IN (SELECT rowid FROM <table>_search WHERE ... MATCH
'"smi"')``: a trigram phrase, which is a substring match, read off the index.

* ``SearchContains`` is the ORM side: ``Q(search_text__search_contains="smi")``.
* ``contains_sql`` is the raw-SQL side (the global search's tiers).
* ``ensure_indexes`` runs after every ``migrate`` (post_migrate, connected by the animals app): it creates what is
  missing and refills an index whose triggers had to be recreated (SQLite's ALTER TABLE rebuilds a table and drops
  its triggers), so a schema change can never leave the index silently stale.

A needle shorter than three characters has no trigram: it falls back to LIKE over the table, as before.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Lookup
from django.db.models.lookups import Contains

TABLES: set[str] = set()  # db tables whose search_text has a trigram index on SQLite (see register)
COLUMN = "search_text"


def register(model: type[models.Model]) -> None:
    """Give ``model`` (a table with a ``search_text`` column and an integer primary key) the SQLite index."""
    TABLES.add(model._meta.db_table)


def index_name(table: str) -> str:
    return f"{table}_search"


def _phrase(needle: str) -> str:
    """An FTS5 string (a phrase): double quotes around, inner ones doubled; nothing in it is query syntax."""
    return '"' + needle.replace('"', '""') + '"'


def uses_index(connection: BaseDatabaseWrapper, table: str, needle: str) -> bool:
    return connection.vendor == "sqlite" and table in TABLES and len(needle) >= 3


def contains_sql(connection: BaseDatabaseWrapper, *, table: str, alias: str, needle: str) -> tuple[str, Any]:
    """SQL (one ``%s``) and its parameter: the row ``alias`` of ``table`` has ``needle`` in its search text."""
    if uses_index(connection, table, needle):
        sql = f"{alias}.id IN (SELECT rowid FROM {index_name(table)} WHERE {index_name(table)} MATCH %s)"  # noqa: S608
        return sql, _phrase(needle)
    like = connection.operators["contains"]  # "LIKE %s" (with SQLite's ESCAPE clause)
    return f"{alias}.{COLUMN} {like}", f"%{connection.ops.prep_for_like_query(needle)}%"


@models.TextField.register_lookup
class SearchContains(Lookup):
    """``search_text__search_contains=needle``: ``contains``, read off the trigram index where there is one."""

    lookup_name = "search_contains"

    def as_sql(self, compiler, connection):
        needle = str(self.rhs)
        target = getattr(self.lhs, "target", None)
        model = getattr(target, "model", None)
        table = model._meta.db_table if model is not None else ""
        if model is not None and getattr(target, "column", None) == COLUMN and uses_index(connection, table, needle):
            alias = compiler.quote_name_unless_alias(self.lhs.alias)
            pk = connection.ops.quote_name(model._meta.pk.column)
            name = index_name(table)
            sql = f"{alias}.{pk} IN (SELECT rowid FROM {name} WHERE {name} MATCH %s)"  # noqa: S608
            return sql, [_phrase(needle)]
        return Contains(self.lhs, self.rhs).as_sql(compiler, connection)


def _triggers(table: str) -> dict[str, str]:
    name = index_name(table)
    insert = f"INSERT INTO {name}(rowid, {COLUMN}) VALUES (new.id, new.{COLUMN});"  # noqa: S608 - our names
    delete = f"INSERT INTO {name}({name}, rowid, {COLUMN}) VALUES ('delete', old.id, old.{COLUMN});"  # noqa: S608
    return {
        f"{name}_ai": f"CREATE TRIGGER {name}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"{name}_ad": f"CREATE TRIGGER {name}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"{name}_au": f"CREATE TRIGGER {name}_au AFTER UPDATE OF {COLUMN} ON {table} BEGIN {delete} {insert} END",
    }


def ensure_indexes(connection: BaseDatabaseWrapper) -> list[str]:
    """Create the missing SQLite search indexes and triggers; refill those that were missing any. Returns the
    tables whose index was (re)built. Nothing on other databases."""
    if connection.vendor != "sqlite":
        return []
    rebuilt = []
    with connection.cursor() as cursor:
        existing_tables = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        triggers = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        for table in sorted(TABLES):
            if table not in existing_tables:
                continue  # migrated only part of the way
            name = index_name(table)
            missing = {trigger: sql for trigger, sql in _triggers(table).items() if trigger not in triggers}
            if name in existing_tables and not missing:
                continue
            if name not in existing_tables:
                cursor.execute(
                    f"CREATE VIRTUAL TABLE {name} USING fts5({COLUMN}, content='{table}', content_rowid='id', "
                    "tokenize='trigram')"
                )
            for sql in missing.values():
                cursor.execute(sql)
            cursor.execute(f"INSERT INTO {name}({name}) VALUES ('rebuild')")  # noqa: S608 - our own table name
            rebuilt.append(table)
    return rebuilt
