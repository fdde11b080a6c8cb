"""Records made from columns by a constructor written for their class: positional, setting each field.

A window of items, or a batch being written, is thousands of records. Made without ``__init__``
by filling each record's dict from a row tuple, an item took 1.3 µs; a function that takes the
columns' values as positional arguments and sets each field in the order ``__init__`` sets them
makes the same record in less than half that (measured on 6,000 items). Python's own dataclasses
write their ``__init__`` the same way.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from sapper.model.records import Record


def records_from_columns(cls: type[Record], names: Sequence[str], values: Sequence[Sequence[Any]]) -> list[Record]:
    """Records of ``cls``, one per row of the columns ``values`` named ``names``, equal to those its
    constructor makes (fields set in the same order); through a maker when every field is given,
    else by the constructor itself."""
    make = _maker(cls, tuple(names))
    if make is None:
        return [cls(**dict(zip(names, row))) for row in zip(*values)]
    with collector_paused():  # thousands of new objects, no cycles among them
        return list(map(make, *values))


@cache
def _maker(cls: type[Record], names: tuple[str, ...]) -> Callable[..., Record] | None:
    """A function of the fields ``names`` (in that order) that makes a ``cls``; None when ``cls``'s
    ``__init__`` does more than set its fields, or ``names`` are not exactly its fields."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    plain = not hasattr(cls, "__post_init__") and all(f.init for f in fields)
    if not plain or len(set(names)) != len(names) or set(names) != {f.name for f in fields}:
        return None
    position = {name: i for i, name in enumerate(names)}
    # Field names are Python identifiers (a dataclass's own); the arguments go by position.
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]  # as its __init__ sets them
        sets = "".join(f"    set_field(record, {f.name!r}, _{position[f.name]})\n" for f in fields)
    else:
        sets = "".join(f"    record.{f.name} = _{position[f.name]}\n" for f in fields)
    arguments = ", ".join(f"_{i}" for i in range(len(names)))
    source = f"def make({arguments}):\n    record = new(cls)\n{sets}    return record\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "set_field": object.__setattr__}
    exec(compile(source, f"<maker of {cls.__name__}>", "exec"), namespace)
    return namespace["make"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a batch's objects are made (records, rows): the new
    objects would set it off every few hundred allocations and it would walk them again and
    again, yet they hold no cycles. It stays off if something else had turned it off."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
