"""The ``sapper`` command. Each module adds its commands to the one app."""

from __future__ import annotations

from sapper.cli import (  # noqa: F401 - they register commands
    backtest,
    field,
    forms,
    plan,
    pull,
    qc,
    records,
    register,
    release,
    report,
    scenario,
    serve,
    tiles,
    transfer,
    worker,
)
from sapper.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
