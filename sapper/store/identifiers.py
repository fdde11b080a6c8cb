"""SQL identifiers as both backends write them."""

from __future__ import annotations


def q(name: str) -> str:
    """Quote an identifier (names come from the schema, never from users)."""
    return '"' + name.replace('"', '""') + '"'
