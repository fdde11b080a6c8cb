"""Recent wrong passwords, by user name and client address, kept in the register's database.

Every server process (``sapper serve --workers N``) and every thread reads the same table, so a guesser
gains nothing by landing on another worker. Like the accounts tables it is not a layer (not in
``gpkg_contents``). Rows older than the longest window are deleted as new ones come, so the table holds
minutes of failures, never a log: the client addresses in it are gone within the hour.
"""

from __future__ import annotations

from sapper.store.sql import SqlBackend, q

FAILURES = "sapper_login_failures"
KEEP_S = 3600.0  # longer than any throttle window; older rows are pruned


class LoginFailures:
    """Wrong passwords on one register backend: (user name, client address, when in Unix seconds)."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> LoginFailures:
        """Create the table if this register has none yet (another process may be doing the same)."""
        if self.backend.existing_columns(FAILURES):
            return self
        try:
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(FAILURES)} (name TEXT NOT NULL, address TEXT NOT NULL, "
                    "at DOUBLE PRECISION NOT NULL)"
                )
                self.backend.execute(f'CREATE INDEX IF NOT EXISTS "{FAILURES}_name" ON {q(FAILURES)} (name, at)')
                self.backend.execute(f'CREATE INDEX IF NOT EXISTS "{FAILURES}_at" ON {q(FAILURES)} (at)')
        except Exception:  # another server process created it at the same moment
            if not self.backend.existing_columns(FAILURES):
                raise
        return self

    def record(self, name: str, address: str, at: float) -> None:
        with self.backend.transaction():
            self.backend.execute(f"DELETE FROM {q(FAILURES)} WHERE at < {self.ph}", [at - KEEP_S])
            self.backend.execute(
                f"INSERT INTO {q(FAILURES)} (name, address, at) VALUES ({self.ph}, {self.ph}, {self.ph})",
                [name, address, at],
            )

    def since(self, name: str, start: float) -> list[tuple[str, float]]:
        """(address, when) of the wrong passwords for ``name`` from ``start`` on, oldest first."""
        sql = f"SELECT address, at FROM {q(FAILURES)} WHERE name = {self.ph} AND at >= {self.ph} ORDER BY at"
        return [(address, float(at)) for address, at in self.backend.execute(sql, [name, start]).fetchall()]

    def clear(self, name: str, address: str) -> None:
        """Forget the failures of ``name`` from ``address`` (its owner got in from there)."""
        self.backend.execute(
            f"DELETE FROM {q(FAILURES)} WHERE name = {self.ph} AND address = {self.ph}", [name, address]
        )
