"""The ``sapper`` command. Each module adds its commands to the one app."""

from __future__ import annotations

from sapper.cli import plan, records, register, release, scenario, serve, transfer  # noqa: F401 - they register commands
from sapper.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
