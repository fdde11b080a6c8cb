"""Registers built once per process and handed out as copies, for tests.

Building the Palmyra scenario, or the demo register whose users' passwords argon2 hashes slowly on purpose,
takes seconds; a copy takes milliseconds. A GeoPackage register is one file (SQLite's rollback journal
leaves nothing beside it once closed), and PostgreSQL makes a database from another by copying its files
(``CREATE DATABASE x TEMPLATE y``). A copy holds exactly what the build wrote, ids, tokens and history
included, so a test sees on it what it would see on a register it built itself, and a test that changes
its copy changes no other.

PostGIS copies are made on the server of the target URL, which must let us create databases: the tests'
throwaway cluster (sapper.testing.postgis) does.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
POSTGRES = ("postgresql://", "postgres://")


def _split(url: str) -> tuple[str, str]:
    """(the server's URL with no database, the database's name)."""
    server, _, database = url.partition("?")[0].rpartition("/")
    return server, database


def _sql(url: str, *statements: str) -> list[Any]:
    """Run statements on ``url`` outside a transaction (CREATE DATABASE needs that); the last one's rows."""
    import psycopg

    rows: list[Any] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            cursor = conn.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
    return rows


def _is_empty(target: str) -> bool:
    """Whether ``target`` is a register not yet written: no file, or a database with no table of ours."""
    if not target.startswith(POSTGRES):
        return not Path(target).exists()
    tables = _sql(
        target,
        "SELECT count(*) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
        "('pg_catalog', 'information_schema', 'topology', 'tiger') AND table_name <> 'spatial_ref_sys'",
    )
    return tables[0][0] == 0


class Copies:
    """What each build wrote, kept once per name and backend (a file, or a template database)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sapper-built-"))
        self._built: dict[tuple[str, str], tuple[str, Any]] = {}
        atexit.register(shutil.rmtree, self.root, True)

    def fill(self, target: str, name: str, build: Callable[[str], T]) -> T:
        """Write into the new register ``target`` (a .gpkg path not yet written, or the URL of an empty
        database) what ``build(target)`` would, and return what it would return.

        The first call for a name and backend runs ``build`` into a register of its own; later calls copy
        that register. A target that holds something already gets ``build`` itself: nothing is overwritten.
        """
        if not _is_empty(target):
            return build(target)
        postgis = target.startswith(POSTGRES)
        key = (name, _split(target)[0] if postgis else "gpkg")
        if key not in self._built:
            self._built[key] = self._build(name, target, build)
        source, made = self._built[key]
        if postgis:
            server, database = _split(target)
            _sql(
                f"{server}/postgres",
                f'DROP DATABASE "{database}"',
                f'CREATE DATABASE "{database}" TEMPLATE "{source}"',
            )
        else:
            shutil.copyfile(source, target)
        return copy.deepcopy(made)

    def _build(self, name: str, target: str, build: Callable[[str], T]) -> tuple[str, T]:
        if not target.startswith(POSTGRES):
            path = str(self.root / f"{name}.gpkg")
            return path, build(path)
        server, database = _split(target)
        template = f"built_{name}_{len(self._built)}".replace("-", "_")
        # the new database is made as the target was, from the cluster's own template (PostGIS ready)
        source = _sql(f"{server}/postgres", f"SELECT datname FROM pg_database WHERE datname = '{database}'")
        assert source, f"no database {database!r} on {server}"
        _sql(f"{server}/postgres", f'CREATE DATABASE "{template}" TEMPLATE "{database}"')
        return template, build(f"{server}/{template}")


_process: list[Copies] = []  # one per process (the test session's), made on first use


def fill(target: str, name: str, build: Callable[[str], T]) -> T:
    """``Copies.fill`` on the process's copies (see the module's docstring)."""
    if not _process:
        _process.append(Copies())
    return _process[0].fill(target, name, build)
