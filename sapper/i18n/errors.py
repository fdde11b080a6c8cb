"""A model error in the reader's language: its frame and its problem translated, names and values kept."""

from __future__ import annotations

from sapper.i18n import translate
from sapper.model.errors import Conflict, InvalidRecord, NotFound, Problem, SapperError


def render(template: str, params: dict[str, object] | None = None, language: str | None = None) -> str:
    """A template in ``language`` with its fields filled; values that are Problems are translated too."""
    if isinstance(template, Problem) and not params:
        return sentence(template, language)
    text = translate(template, language)
    if not params:
        return text
    return text.format(**{k: sentence(v, language) if isinstance(v, Problem) else v for k, v in params.items()})


def sentence(message: str, language: str | None = None) -> str:
    """A message (a Problem or a marked plain sentence) in ``language``."""
    if isinstance(message, Problem):
        return render(message.template, message.params, language)
    return translate(message, language)


def reason(exc: BaseException) -> str:
    """What an exception says, keeping its Problem (so it is translated later) when it carries one."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], Problem) else str(exc)


def localised(exc: SapperError | ValueError, language: str | None = None) -> str:
    if isinstance(exc, Conflict):
        return translate(Conflict.TEMPLATE, language).format(ref=exc.ref, expected=exc.expected, actual=exc.actual)
    if isinstance(exc, NotFound):
        return translate(NotFound.TEMPLATE, language).format(ref=exc.ref)
    if isinstance(exc, InvalidRecord):
        problem = sentence(exc.problem, language)
        return translate(InvalidRecord.TEMPLATE, language).format(ref=exc.ref, problem=problem)
    if exc.args and isinstance(exc.args[0], Problem):
        return sentence(exc.args[0], language)
    return translate(str(exc), language)
