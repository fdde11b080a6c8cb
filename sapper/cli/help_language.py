"""The ``--help`` texts in the reader's language.

Typer reads the help texts (``help=`` and docstrings) when the modules are imported, before the
language is known. They stay English in the code, as message ids; the catalogues' extractor
finds them by walking the built command tree (``help_texts``), and the root group puts them
into the language asked for (``--lang``, else ``SAPPER_LANG``) before anything is parsed, so
``sapper --help`` and every command's help are translated even though the app's callback (which
sets the language of everything else) does not run for ``--help``.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from sapper.cli.parser_language import LocalisedContext, translate_error
from sapper.i18n import DEFAULT, N_, parse_language, translate

FIELDS = ("help", "short_help")
# Typer's own words around the help texts: settings of its help formatter (typer.rich_utils), read each time.
TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "ABORTED_TEXT": N_("Aborted."),
}
ORIGINAL = "_sapper_english_{}"  # where a text's English (its message id) is kept once translated
ROOT_VALUES = {"--register", "-r", "--user", "-u"}  # root options that take a value before the command


def message_id(text: str) -> str:
    """A help text as the catalogues key it: paragraphs kept, the line breaks within them not
    (typer joins those lines anyway), so re-wrapping a docstring keeps its translation."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n") if p.strip())


def help_owners(command: Any) -> Iterator[tuple[Any, str, Any]]:
    """Every (object, attribute, command) holding a help text: the command's, its parameters'
    (the ``--help`` option too), then the same for each sub-command, depth first."""
    for field in FIELDS:
        yield command, field, command
    for param in command.get_params(typer.Context(command)):
        yield param, "help", command
    for sub in getattr(command, "commands", {}).values():
        yield from help_owners(sub)


def english(owner: Any, field: str) -> str | None:
    return owner.__dict__.get(ORIGINAL.format(field), getattr(owner, field, None))


def help_texts(command: Any) -> Iterator[tuple[str, Any]]:
    """Each help text's message id with the command it documents (to say where it comes from)."""
    for owner, field, documented in help_owners(command):
        text = english(owner, field)
        if text:
            yield message_id(text), documented


def localise(command: Any, language: str) -> None:
    """Put every help text of the tree, and typer's words around them, into ``language``; English
    gives back the texts as written. Each command's context writes its usage line in the root's language."""
    for owner, field, documented in help_owners(command):
        documented.context_class = LocalisedContext
        text = english(owner, field)
        if not text:
            continue
        owner.__dict__[ORIGINAL.format(field)] = text
        setattr(owner, field, text if language == DEFAULT else translate(message_id(text), language))
    if language != DEFAULT or "typer.rich_utils" in sys.modules:  # English needs no import (40 ms) to stay English
        from typer import rich_utils

        for name, words in TYPER_WORDS.items():
            setattr(rich_utils, name, translate(words, language))


def language_asked(args: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """The language of ``--lang`` among the root options (before the command name), else of
    SAPPER_LANG; English when neither names a supported one (the app's callback reports a bad one)."""
    given: str | None = None
    words = iter(args)
    for word in words:
        if word == "--lang":
            given = next(words, None)
        elif word.startswith("--lang="):
            given = word.partition("=")[2]
        elif word in ROOT_VALUES:
            next(words, None)
        elif not word.startswith("-"):
            break
    if given is None:
        given = (os.environ if environ is None else environ).get("SAPPER_LANG")
    try:
        return parse_language(given) if given else DEFAULT
    except ValueError:
        return DEFAULT


class LocalisedGroup(TyperGroup):
    """The root ``sapper`` group: translates the whole tree's help before parsing its arguments, and
    the parser's errors (its own and its sub-commands') as they leave it."""

    context_class = LocalisedContext
    language = DEFAULT

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        self.language = language_asked(args)
        localise(self, self.language)
        try:
            return super().parse_args(ctx, args)
        except UsageError as error:
            translate_error(error, self.language)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as error:
            translate_error(error, self.language)
            raise
