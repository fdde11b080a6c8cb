"""User accounts and access tokens, kept in the register's database but not as layers.

The tables are not registered in ``gpkg_contents``, so GIS tools, exports and ``sapper list``
never show them. Passwords are stored as argon2id hashes; tokens as the SHA-256 of the secret,
so a copy of the database gives away neither.

Every change to an account (added, changed, password set, removed, token issued or withdrawn)
is written to the register's audit log in the same transaction, with who did it: the account's
state before and after, never a password, a token or a hash of either.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sapper.i18n import N_
from sapper.model.accounts import NAME_PATTERN, Role, User, check_password, check_user
from sapper.model.errors import InvalidRecord, NotFound, Problem
from sapper.store.audit_rows import AuditEntry
from sapper.store.login_failures import LoginFailures
from sapper.store.register import default_user
from sapper.store.schema import AUDIT_TABLE, layer
from sapper.store.sql import SqlBackend, q

USERS = "sapper_users"
TOKENS = "sapper_tokens"
TOKEN_PREFIX = "sap_"
DEFAULT_TOKEN_DAYS = 30
# Assumption: a GIS client's or a field tablet's token outlives a field rotation but not a season; NIST SP
# 800-63B 7.2 asks for re-authentication at least every 30 days at AAL1, the login default above.
MAX_TOKEN_DAYS = 90
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps a wrong user name as slow as a wrong password.
    Made on first use: hashing is slow on purpose and every `sapper` command imports this."""
    return _hasher.hash("not a password of anyone")


USER_COLUMNS = ("name", "password_hash", "role", "organisation", "team_id", "active", "created_at", "language")
PASSWORD_SET = "password_set_at"  # when the password was last set: what the audit log shows of it
LANGUAGE = "language"  # the account's language for the web UI, API errors and documents (NULL: the browser's)
PASSWORD_STAMP = "microseconds"  # two changes within a second still differ, so the log shows each


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime, timespec: str = "seconds") -> str:
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_key(name: str) -> int:
    """The audit log's record number for an account.

    The log numbers its records, accounts go by name, and a removed name may come back with the
    same history; so the number is 62 bits of the name's SHA-256 (entries are matched by name too).
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 2


def check_token_days(days: float, what: str = "a token") -> None:
    """Refuse a token life that is not positive or longer than MAX_TOKEN_DAYS."""
    if not days > 0:
        raise InvalidRecord(what, N_("must be valid for a positive number of days"))
    if days > MAX_TOKEN_DAYS:
        problem = Problem(N_("may be valid for at most {most} days, not {days}"), most=MAX_TOKEN_DAYS, days=f"{days:g}")
        raise InvalidRecord(what, problem)


class Accounts:
    """Users and tokens on one register backend (same connection, same transactions).

    ``by`` is who makes the changes, for the audit log (default: as for the register).
    """

    def __init__(self, backend: SqlBackend, by: str | None = None) -> None:
        self.backend = backend
        self.ph = backend.ph
        self.by = by or default_user()

    def ensure(self) -> Accounts:
        """Create the tables if this register has none yet, and add columns newer versions need."""
        existing = self.backend.existing_columns(USERS)
        if not existing:
            with self.backend.transaction():
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(USERS)} (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, "
                    "role TEXT NOT NULL, organisation TEXT NOT NULL, team_id INTEGER, active INTEGER NOT NULL, "
                    f"created_at TEXT NOT NULL, {PASSWORD_SET} TEXT, {LANGUAGE} TEXT)"
                )
                self.backend.execute(
                    f"CREATE TABLE IF NOT EXISTS {q(TOKENS)} (digest TEXT PRIMARY KEY, username TEXT NOT NULL, "
                    "label TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL)"
                )
                self.backend.execute(f'CREATE INDEX IF NOT EXISTS "{TOKENS}_user" ON {q(TOKENS)} (username)')
        else:
            for column in (PASSWORD_SET, LANGUAGE):
                if column not in existing:
                    self._add_column(column)
        LoginFailures(self.backend).ensure()
        return self

    def _add_column(self, column: str) -> None:
        """A column newer versions need, added to an older register's table (same on both backends)."""
        try:
            with self.backend.transaction():
                self.backend.execute(f"ALTER TABLE {q(USERS)} ADD COLUMN {column} TEXT")
        except Exception:  # another server process added it at the same moment
            if column not in self.backend.existing_columns(USERS):
                raise

    # --- users ---------------------------------------------------------------------
    def add(self, user: User, password: str) -> User:
        check_user(user)
        check_password(user.name, password)
        self._check_team(user)
        if self.find(user.name) is not None:
            raise InvalidRecord(f"user {user.name!r}", N_("exists already"))
        created = _now()
        values = [
            user.name,
            _hasher.hash(password),
            user.role.value,
            user.organisation,
            user.team_id,
            int(user.active),
            _stamp(created),
            user.language,
            _stamp(created, PASSWORD_STAMP),
        ]
        cols = ", ".join((*USER_COLUMNS, PASSWORD_SET))
        with self.backend.transaction():
            self.backend.execute(f"INSERT INTO {q(USERS)} ({cols}) VALUES ({', '.join([self.ph] * 9)})", values)
            self._log(user.name, "insert", None, self._state(user.name))
        return User(
            name=user.name,
            role=user.role,
            organisation=user.organisation,
            team_id=user.team_id,
            active=user.active,
            created_at=created,
            language=user.language,
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
        """Change role, organisation, team_id, active or language; the rules of a new account apply."""
        current = self.get(name)
        allowed = {"role", "organisation", "team_id", "active", "language"}
        unknown = set(fields) - allowed
        if unknown:
            problem = Problem(N_("cannot set {fields}"), fields=", ".join(sorted(unknown)))
            raise InvalidRecord(f"user {name!r}", problem)
        values = {
            "role": current.role,
            "organisation": current.organisation,
            "team_id": current.team_id,
            "active": current.active,
            "language": current.language,
        }
        values.update(fields)
        values["role"] = Role.parse(values["role"])
        updated = User(name=name, created_at=current.created_at, **values)
        check_user(updated)
        self._check_team(updated)
        sets = ", ".join(f"{c} = {self.ph}" for c in ("role", "organisation", "team_id", "active", LANGUAGE))
        params = [
            updated.role.value,
            updated.organisation,
            updated.team_id,
            int(updated.active),
            updated.language,
            name,
        ]
        with self.backend.transaction():
            before = self._state(name)
            self.backend.execute(f"UPDATE {q(USERS)} SET {sets} WHERE name = {self.ph}", params)
            after = self._state(name)
            if after != before:
                self._log(name, "update", before, after)
            if not updated.active:
                self.revoke(name)
        return updated

    def set_password(self, name: str, password: str) -> None:
        self.get(name)
        check_password(name, password)
        with self.backend.transaction():
            before = self._state(name)
            self.backend.execute(
                f"UPDATE {q(USERS)} SET password_hash = {self.ph}, {PASSWORD_SET} = {self.ph} WHERE name = {self.ph}",
                [_hasher.hash(password), _stamp(_now(), PASSWORD_STAMP), name],
            )
            self._log(name, "update", before, self._state(name))
            self.revoke(name)

    def remove(self, name: str) -> None:
        self.get(name)
        with self.backend.transaction():
            self.revoke(name)
            before = self._state(name)
            self.backend.execute(f"DELETE FROM {q(USERS)} WHERE name = {self.ph}", [name])
            self._log(name, "delete", before, None)

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
            raise InvalidRecord(f"user {user.name!r}", Problem(N_("team {id} does not exist"), id=user.team_id))

    # --- tokens --------------------------------------------------------------------
    def issue_token(self, name: str, label: str = "login", days: float = DEFAULT_TOKEN_DAYS) -> str:
        """A new secret for ``name``; only its digest is kept, so it is shown once."""
        user = self.get(name)
        if not user.active:
            raise InvalidRecord(f"user {name!r}", N_("is disabled"))
        check_token_days(days, f"token for {name!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        values = [token_digest(token), name, label, _stamp(now), _stamp(now + timedelta(days=days))]
        with self.backend.transaction():
            self.backend.execute(f"INSERT INTO {q(TOKENS)} VALUES ({', '.join([self.ph] * 5)})", values)
            self._log(name, "token", None, {"name": name, **_token_state(values[2:])})
        return token

    def user_for_token(self, token: str) -> User | None:
        """The active user a valid, unexpired token belongs to; none older than MAX_TOKEN_DAYS, whatever it says."""
        sql = (
            f"SELECT u.{', u.'.join(USER_COLUMNS)} FROM {q(TOKENS)} t JOIN {q(USERS)} u ON u.name = t.username "
            f"WHERE t.digest = {self.ph} AND t.expires_at > {self.ph} AND t.created_at > {self.ph}"
        )
        now = _now()
        oldest = _stamp(now - timedelta(days=MAX_TOKEN_DAYS))
        row = self.backend.execute(sql, [token_digest(token), _stamp(now), oldest]).fetchone()
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
        where = f"username = {self.ph}"
        params: list[Any] = [name]
        if token is not None:
            where += f" AND digest = {self.ph}"
            params.append(token_digest(token))
        with self.backend.transaction():
            sql = f"SELECT label, created_at, expires_at FROM {q(TOKENS)} WHERE {where} ORDER BY created_at"
            gone = [_token_state(row) for row in self.backend.execute(sql, params).fetchall()]
            n = int(self.backend.execute(f"DELETE FROM {q(TOKENS)} WHERE {where}", params).rowcount)
            if n:
                self._log(name, "revoke", {"name": name, "tokens": gone}, None)
        return n

    # --- audit log -----------------------------------------------------------------
    def history(self, name: str) -> list[AuditEntry]:
        """Every change to the account ``name`` (also from before it was removed), oldest first."""
        entries = self.backend.read_audit(USERS, account_key(name))
        return [e for e in entries if (e.after or e.before or {}).get("name") == name]

    def _state(self, name: str) -> dict[str, Any]:
        """What the audit log keeps of an account: no password hash, only when it was set."""
        columns = f"role, organisation, team_id, active, {PASSWORD_SET}, {LANGUAGE}"
        sql = f"SELECT {columns} FROM {q(USERS)} WHERE name = {self.ph}"
        role, organisation, team_id, active, password_set, language = self.backend.execute(sql, [name]).fetchone()
        state = {
            "name": name,
            "role": role,
            "organisation": organisation or "",
            "team_id": None if team_id is None else int(team_id),
            "active": bool(active),
            PASSWORD_SET: password_set,
        }
        if language:  # shown once chosen; accounts without one keep the entries they always had
            state[LANGUAGE] = language
        return state

    def _log(self, name: str, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        key = account_key(name)
        count = f"SELECT count(*) FROM {q(AUDIT_TABLE)} WHERE layer = {self.ph} AND record_id = {self.ph}"
        version = int(self.backend.execute(count, [USERS, key]).fetchone()[0])
        entry = AuditEntry(
            at=_now(),
            user=self.by,
            action=action,
            layer=USERS,
            record_id=key,
            version=version,
            before=before,
            after=after,
        )
        self.backend.write_audit([entry])


def _token_state(row: Sequence[Any]) -> dict[str, Any]:
    """A token as the audit log shows it: what it is for and when, never the secret or its digest."""
    label, created_at, expires_at = row
    return {"label": label, "created_at": created_at, "expires_at": expires_at}


def _user(row: tuple[Any, ...]) -> User:
    name, _hash, role, organisation, team_id, active, created_at, language = row
    return User(
        name=name,
        role=Role.parse(role),
        organisation=organisation or "",
        team_id=None if team_id is None else int(team_id),
        active=bool(active),
        created_at=datetime.fromisoformat(created_at),
        language=language or None,
    )


__all__ = ["DEFAULT_TOKEN_DAYS", "MAX_TOKEN_DAYS", "Accounts", "account_key", "check_token_days", "token_digest"]
