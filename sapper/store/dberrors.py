"""A database's own errors said as sentences: which register, what happened, what to do.

The CLI and the server meet these where the register cannot check beforehand: another
process holding the write lock, a disk that fills up, a read-only file, two imports of
the same records committing at the same moment.
"""

from __future__ import annotations

import sqlite3

BUSY_MESSAGES = ("database is locked", "database table is locked")


def is_busy(exc: BaseException) -> bool:
    """Another writer held the register longer than this one would wait."""
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc) for text in BUSY_MESSAGES)
    return type(exc).__name__ in ("LockNotAvailable", "DeadlockDetected") and _from_psycopg(exc)


def explain(exc: BaseException, target: str) -> str | None:
    """One sentence for a database error a user can act on, or None for anything else."""
    if is_busy(exc):
        return f"{target} is busy with another write (an import?); nothing was changed, try again when it is done"
    if isinstance(exc, sqlite3.Error):
        return _sqlite(exc, target)
    if _from_psycopg(exc) and type(exc).__name__ == "UniqueViolation":
        return _duplicate(exc, target)
    return None


def _sqlite(exc: sqlite3.Error, target: str) -> str | None:
    text = str(exc)
    if "readonly database" in text:
        return f"{target} is read-only (the file or its folder cannot be written); nothing was changed"
    if "disk is full" in text or "disk I/O error" in text:
        problem = "the disk is full" if "full" in text else "the disk failed to write"
        return f"cannot write to {target}: {problem} ({text}); nothing was changed"
    if "unable to open database file" in text:
        return f"cannot open {target} ({text}): is its folder there, readable and writable?"
    if isinstance(exc, sqlite3.IntegrityError) and "source_key" in text:
        return (
            f"{target} is unchanged by this command: another write stored records with the same "
            f"source_key first ({text}); run it again to add what is still missing"
        )
    return None


def _duplicate(exc: BaseException, target: str) -> str:
    diag = getattr(exc, "diag", None)
    table = getattr(diag, "table_name", None) or "the register"
    detail = getattr(diag, "message_detail", None) or str(exc).strip().splitlines()[0]
    return (
        f"{target} is unchanged by this import: another import of the same records ran at the same time "
        f"and stored them first ({table}: {detail}); run it again to add what is still missing"
    )


def _from_psycopg(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")
