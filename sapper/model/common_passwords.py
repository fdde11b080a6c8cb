"""The common-password blocklist that NIST SP 800-63B (5.1.1.2) asks a verifier to check new passwords against.

The list is ``data/common-passwords.txt``: the 8,359 entries of eight characters or more (shorter ones are refused
by length anyway) from the 20,000 common passwords Django ships (``django/contrib/auth/common-passwords.txt.gz``,
Django 5.2, BSD-3-Clause; compiled by Royce Williams from breach corpora), lower case, one a line. See
``data/COMMON-PASSWORDS.md`` for its origin and licence.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def common_passwords() -> frozenset[str]:
    """Read once, on the first password checked: the CLI's other commands never pay for it."""
    text = files("sapper.model").joinpath("data", "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def is_common(password: str) -> bool:
    """Whether the password, in any case, is on the list."""
    return password.lower() in common_passwords()
