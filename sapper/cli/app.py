"""The Typer app, the shared options and how errors reach the user."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from sapper import i18n
from sapper.cli.help_language import LocalisedGroup
from sapper.i18n import N_
from sapper.i18n.errors import localised
from sapper.model.errors import SapperError
from sapper.store import Register, dberrors, is_postgres, open_register

app = typer.Typer(
    name="sapper",
    cls=LocalisedGroup,
    help="Register, plan and track the clearance of explosive hazards from a city.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    register: str | None = None
    user: str | None = None
    lang: str | None = None  # given with --lang / SAPPER_LANG, else None (a document may follow the account)


state = State()


@app.callback()
def root(
    register: str = typer.Option(
        None,
        "--register",
        "-r",
        envvar="SAPPER_REGISTER",
        help="Register to work on (a .gpkg file or postgresql:// URL) for commands that do not name one.",
    ),
    user: str = typer.Option(None, "--user", "-u", envvar="SAPPER_USER", help="Who is writing (for the audit log)."),
    lang: str = typer.Option(
        None, "--lang", envvar="SAPPER_LANG", help="Language of messages and documents: en, ar or ru (default: en)."
    ),
) -> None:
    state.register = register
    state.user = user
    state.lang = lang
    try:
        i18n.use(lang)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


def register_target(given: str | None = None) -> str:
    target = given or state.register
    if not target:
        raise SapperError(
            i18n._(N_("which register? give -r REGISTER (a .gpkg file or postgresql:// URL) or set SAPPER_REGISTER"))
        )
    return target


def open_target(given: str | None = None, *, read_only: bool = False) -> Register:
    """The register to work on; ``read_only`` for commands that must not change it (list, export...)."""
    try:
        return open_register(register_target(given), user=state.user, read_only=read_only)
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        raise SapperError(str(exc)) from None


def shown_target(kwargs: dict[str, Any]) -> str:
    """The register a command worked on, as an error message may show it (no password)."""
    target = str(kwargs.get("register") or state.register or "the register")
    if is_postgres(target):
        from sapper.store.postgis import redact

        return redact(target)
    return target


def friendly(fn: F) -> F:
    """Show a SapperError, a bad value or a database refusal as one red line and exit 1, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (SapperError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else localised(exc)
            fail(str(message))
        except Exception as exc:
            sentence = dberrors.explain(exc, shown_target(kwargs))
            if sentence is None:
                raise
            fail(sentence)

    return wrapper  # type: ignore[return-value]


def fail(message: str) -> NoReturn:
    label = i18n._("error:")
    err.print(f"[bold red]{escape(label)}[/] {escape(message)}", highlight=False)
    if os.environ.get("SAPPER_DEBUG"):
        raise
    raise typer.Exit(1) from None
