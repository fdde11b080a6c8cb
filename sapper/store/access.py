"""What the register's own rules (rules.py, landrelease.py, qc.py) need of the register that calls them:
read, count, find nearby, write, all in one transaction. A Protocol, so those modules do not
import the Register that imports them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from shapely.geometry.base import BaseGeometry

from sapper.model.records import Record
from sapper.store.sql import BBox, SqlBackend

R = TypeVar("R", bound=Record)
Kind = str | type[Record]


class RegisterAccess(Protocol):
    backend: SqlBackend
    user: str

    def transaction(self) -> AbstractContextManager[None]: ...

    def get(self, kind: Kind, record_id: int) -> Any: ...

    def list(
        self,
        kind: Kind,
        *,
        bbox: BBox | None = None,
        where: dict[str, Any] | None = None,
        order_by: str = "id",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]: ...

    def count(self, kind: Kind, *, bbox: BBox | None = None, where: dict[str, Any] | None = None) -> int: ...

    def near(self, kind: Kind, geom: BaseGeometry, distance: float) -> list[tuple[Any, float]]: ...

    def add(self, record: R) -> R: ...

    def add_many(self, records: Sequence[R], *, restore: bool = False) -> list[R]: ...

    def update(self, record: R, *, by_release: bool = False) -> R: ...

    def delete(self, kind: Kind, record_id: int) -> None: ...
