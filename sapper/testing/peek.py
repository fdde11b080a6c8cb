"""A register's tables as another connection sees them: what a reader outside a write would find."""

from __future__ import annotations

import sqlite3

import psycopg

from sapper.store import is_postgres
from sapper.store.schema import AUDIT_TABLE


def table_state(target: str, table: str) -> tuple[int, int, int]:
    """Rows of ``table``, audit entries and the highest id of ``table``, read on a new connection."""
    counts = f'(SELECT count(*) FROM "{table}"), (SELECT count(*) FROM "{AUDIT_TABLE}")'
    sql = f'SELECT {counts}, (SELECT max(id) FROM "{table}")'
    if is_postgres(target):
        with psycopg.connect(target) as conn:
            row = conn.execute(sql).fetchone()
    else:
        with sqlite3.connect(target) as conn:
            row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2] or 0)
