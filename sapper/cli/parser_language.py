"""The command line parser's own sentences ("No such option: --foo", "Missing argument 'kind'.") and its
``Usage:`` line in the reader's language.

Typer parses with its own copy of click, whose sentences are plain f-strings, not gettext messages, so they
cannot be looked up as they are made. They are recognised once made instead: each sentence below is the
parser's wording with its values as ``{fields}``; a made sentence that matches one is rebuilt from the
catalogue's translation, its values kept (a ``{message}`` field is itself a parser sentence, translated in
turn). A sentence with no template stays English. tests/test_i18n_parser.py checks the templates against
the sentences the installed typer really makes, so a reworded sentence after an upgrade is caught.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from typer._click.core import Context
from typer._click.formatting import HelpFormatter

from sapper.i18n import DEFAULT, N_, translate

USAGE = N_("Usage:")
# typer 0.29's wordings (typer/_click/*.py, typer/core.py) and pydantic's for a number that does not parse.
SENTENCES = (
    N_("No such option: {option}"),
    N_("{message} (Possible options: {options})"),
    N_("No such command {name}."),
    N_("No such command {name}. Did you mean {suggestions}?"),
    N_("Missing command."),
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Invalid value for {name}: {message}"),
    N_("Invalid value: {message}"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {n} arguments."),
    N_("Option {name} does not take a value."),
    N_("Argument {name} takes {n} values."),
    N_("Got unexpected extra argument(s) ({arguments})"),
    N_("Value {value} is not a valid {kind}."),
    N_("{value} is not one of {choices}."),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid boolean, unable to interpret input"),
)
FIELD = re.compile(r"\{(\w+)\}")


def pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching the sentences a template makes, its fields as named groups."""
    parts = FIELD.split(template)  # literal, field, literal, field, ...
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(body, re.DOTALL)


@cache
def patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The templates, the most literal words first, so "No such command {name}. Did you mean ...?" is
    tried before "No such command {name}." (which would otherwise swallow the suggestion as the name)."""
    by_words = sorted(SENTENCES, key=lambda t: -len(FIELD.sub("", t)))
    return [(template, pattern(template)) for template in by_words]


def parser_sentence(text: str, language: str) -> str:
    """A sentence the parser made, in ``language``; as it was when no template matches."""
    if language == DEFAULT:
        return text
    for template, regex in patterns():
        match = regex.fullmatch(text)
        if match:
            fields = match.groupdict()
            if "message" in fields:
                fields["message"] = parser_sentence(fields["message"], language)
            return translate(template, language).format(**fields)
    return text


def translate_error(error: Any, language: str) -> None:
    """Make a parser error (a click UsageError) show its sentence in ``language``: its message is put
    together by the error's class when shown, so the whole of it is translated then."""
    if language == DEFAULT or type(error).__name__ == "NoArgsIsHelpError":  # that one carries the help page
        return
    english = error.format_message
    error.format_message = lambda: parser_sentence(english(), language)


class UsageFormatter(HelpFormatter):
    """Writes the ``Usage:`` line's prefix in the language of the run (``prefix``)."""

    prefix = USAGE

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, f"{self.prefix} " if prefix is None else prefix)


class LocalisedContext(Context):
    """A command's context whose usage line is in the language the root group was asked for."""

    def make_formatter(self) -> HelpFormatter:
        formatter = UsageFormatter(width=self.terminal_width, max_width=self.max_content_width)
        formatter.prefix = translate(USAGE, getattr(self.find_root().command, "language", DEFAULT))
        return formatter
