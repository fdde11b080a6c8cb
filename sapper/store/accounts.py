"""User accounts and access tokens, kept in the register's database but not as layers.

The tables are not registered in ``gpkg_contents``, so GIS tools, exports and ``sapper list``
never show them. Passwords are stored as argon2id hashes; tokens as the SHA-256 of the secret,
so a copy of the database gives away neither.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sapper.model.accounts import NAME_PATTERN, Role, User, check_password, check_user
from sapper.model.errors import InvalidRecord, NotFound
from sapper.store.schema import layer
from sapper.store.sql import SqlBackend, q

USERS = "sapper_users"
TOKENS = "sapper_tokens"
TOKEN_PREFIX = "sap_"
DEFAULT_TOKEN_DAYS = 30
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps a wrong user name as slow as a wrong password.
    Made on first use: hashing is slow on purpose and every `sapper` command imports this."""
    return _hasher.hash("not a password of anyone")


USER_COLUMNS = ("name", "password_hash", "role", "organisation", "team_id", "active", "created_at")


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users and tokens on one register backend (same connection, same transactions)."""

    def __init__(self, backend: SqlBackend) -> None:
        self.backend = backend
        self.ph = backend.ph

    def ensure(self) -> Accounts:
        """Create the tables if this register has none yet."""
        if not self.backend.existing_columns(USERS):
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE {q(USERS)} (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, "
                    "role TEXT NOT NULL, organisation TEXT NOT NULL, team_id INTEGER, active INTEGER NOT NULL, "
                    "created_at TEXT NOT NULL)"
                )
                self.backend.execute(
                    f"CREATE TABLE {q(TOKENS)} (digest TEXT PRIMARY KEY, username TEXT NOT NULL, label TEXT NOT NULL, "
                    "created_at TEXT NOT NULL, expires_at TEXT NOT NULL)"
                )
                self.backend.execute(f'CREATE INDEX "{TOKENS}_user" ON {q(TOKENS)} (username)')
        return self

    # --- users ---------------------------------------------------------------------
    def add(self, user: User, password: str) -> User:
        check_user(user)
        check_password(user.name, password)
        self._check_team(user)
        if self.find(user.name) is not None:
            raise InvalidRecord(f"user {user.name!r}", "exists already")
        created = _now()
        values = [
            user.name,
            _hasher.hash(password),
            user.role.value,
            user.organisation,
            user.team_id,
            int(user.active),
            _stamp(created),
        ]
        cols = ", ".join(USER_COLUMNS)
        with self.backend.transaction():
            self.backend.execute(f"INSERT INTO {q(USERS)} ({cols}) VALUES ({', '.join([self.ph] * 7)})", values)
        return User(
            name=user.name,
            role=user.role,
            organisation=user.organisation,
            team_id=user.team_id,
            active=user.active,
            created_at=created,
        )

    def find(self, name: str) -> User | None:
        row = self._row(name) if NAME_PATTERN.fullmatch(name) else None
        return None if row is None else _user(row)

    def get(self, name: str) -> User:
        user = self.find(name)
        if user is None:
            raise NotFound(f"user {name!r}")
        return user

    def list(self) -> list[User]:
        sql = f"SELECT {', '.join(USER_COLUMNS)} FROM {q(USERS)} ORDER BY name"
        return [_user(row) for row in self.backend.execute(sql).fetchall()]

    def count(self) -> int:
        return int(self.backend.execute(f"SELECT count(*) FROM {q(USERS)}").fetchone()[0])

    def change(self, name: str, **fields: Any) -> User:
        """Change role, organisation, team_id or active; the rules of a new account apply."""
        current = self.get(name)
        allowed = {"role", "organisation", "team_id", "active"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidRecord(f"user {name!r}", f"cannot set {', '.join(sorted(unknown))}")
        values = {
            "role": current.role,
            "organisation": current.organisation,
            "team_id": current.team_id,
            "active": current.active,
        }
        values.update(fields)
        values["role"] = Role.parse(values["role"])
        updated = User(name=name, created_at=current.created_at, **values)
        check_user(updated)
        self._check_team(updated)
        sets = ", ".join(f"{c} = {self.ph}" for c in ("role", "organisation", "team_id", "active"))
        params = [updated.role.value, updated.organisation, updated.team_id, int(updated.active), name]
        with self.backend.transaction():
            self.backend.execute(f"UPDATE {q(USERS)} SET {sets} WHERE name = {self.ph}", params)
            if not updated.active:
                self.revoke(name)
        return updated

    def set_password(self, name: str, password: str) -> None:
        self.get(name)
        check_password(name, password)
        with self.backend.transaction():
            self.backend.execute(
                f"UPDATE {q(USERS)} SET password_hash = {self.ph} WHERE name = {self.ph}",
                [_hasher.hash(password), name],
            )
            self.revoke(name)

    def remove(self, name: str) -> None:
        self.get(name)
        with self.backend.transaction():
            self.revoke(name)
            self.backend.execute(f"DELETE FROM {q(USERS)} WHERE name = {self.ph}", [name])

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is theirs and the account active, else None."""
        row = self._row(name) if NAME_PATTERN.fullmatch(name) else None
        stored = row[1] if row is not None else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        user = _user(row)
        return user if user.active else None

    def _row(self, name: str) -> tuple[Any, ...] | None:
        sql = f"SELECT {', '.join(USER_COLUMNS)} FROM {q(USERS)} WHERE name = {self.ph}"
        return self.backend.execute(sql, [name]).fetchone()

    def _check_team(self, user: User) -> None:
        if user.team_id is not None and not self.backend.existing_ids(layer("team"), [user.team_id]):
            raise InvalidRecord(f"user {user.name!r}", f"team {user.team_id} does not exist")

    # --- tokens --------------------------------------------------------------------
    def issue_token(self, name: str, label: str = "login", days: float = DEFAULT_TOKEN_DAYS) -> str:
        """A new secret for ``name``; only its digest is kept, so it is shown once."""
        user = self.get(name)
        if not user.active:
            raise InvalidRecord(f"user {name!r}", "is disabled")
        if days <= 0:
            raise InvalidRecord(f"token for {name!r}", "must be valid for a positive number of days")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        values = [token_digest(token), name, label, _stamp(now), _stamp(now + timedelta(days=days))]
        with self.backend.transaction():
            self.backend.execute(f"INSERT INTO {q(TOKENS)} VALUES ({', '.join([self.ph] * 5)})", values)
        return token

    def user_for_token(self, token: str) -> User | None:
        """The active user a valid, unexpired token belongs to."""
        sql = (
            f"SELECT u.{', u.'.join(USER_COLUMNS)} FROM {q(TOKENS)} t JOIN {q(USERS)} u ON u.name = t.username "
            f"WHERE t.digest = {self.ph} AND t.expires_at > {self.ph}"
        )
        row = self.backend.execute(sql, [token_digest(token), _stamp(_now())]).fetchone()
        if row is None:
            return None
        user = _user(row)
        return user if user.active else None

    def tokens(self, name: str) -> list[tuple[str, datetime, datetime]]:
        """(label, created, expires) of a user's tokens."""
        sql = f"SELECT label, created_at, expires_at FROM {q(TOKENS)} WHERE username = {self.ph} ORDER BY created_at"
        rows = self.backend.execute(sql, [name]).fetchall()
        return [(label, datetime.fromisoformat(c), datetime.fromisoformat(e)) for label, c, e in rows]

    def revoke(self, name: str, token: str | None = None) -> int:
        """Withdraw one token of a user, or all of them; returns how many went."""
        sql = f"DELETE FROM {q(TOKENS)} WHERE username = {self.ph}"
        params: list[Any] = [name]
        if token is not None:
            sql += f" AND digest = {self.ph}"
            params.append(token_digest(token))
        with self.backend.transaction():
            return int(self.backend.execute(sql, params).rowcount)


def _user(row: tuple[Any, ...]) -> User:
    name, _hash, role, organisation, team_id, active, created_at = row
    return User(
        name=name,
        role=Role.parse(role),
        organisation=organisation or "",
        team_id=None if team_id is None else int(team_id),
        active=bool(active),
        created_at=datetime.fromisoformat(created_at),
    )


__all__ = ["DEFAULT_TOKEN_DAYS", "Accounts", "token_digest"]
