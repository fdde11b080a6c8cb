"""Files written whole or not at all.

An export (or a rejects file) is written to a temporary file beside its target, in
the same folder so the final rename is atomic, and renamed over the target only once
it is complete. A failure (missing folder, full disk, GDAL error) leaves no partial
file, and an older file at the target stays as it was. A Shapefile is several files:
each is written under the temporary name and renamed in turn.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sapper.model.errors import SapperError

SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def check_folder(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise SapperError(f"cannot write {path}: the folder {folder} {what}")


@contextmanager
def replacing(path: str | Path, sidecars: Sequence[str] = ()) -> Iterator[Path]:
    """A temporary path to write instead of ``path``; renamed over it when the block ends without error.

    ``sidecars`` are the suffixes of files that belong with it (a Shapefile's .dbf...)."""
    path = Path(path)
    check_folder(path)
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    temps, finals = _parts(temp, sidecars), _parts(path, sidecars)
    try:
        yield temp
        for part in temps:  # a file the writer could not flush shows up here, not later
            if part.exists():
                _sync(part)
    except BaseException as exc:
        _remove(temps)
        if isinstance(exc, OSError):
            raise SapperError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    try:
        for part, final in zip(temps, finals):
            if part.exists():
                os.replace(part, final)
            else:
                final.unlink(missing_ok=True)  # a part an older export had and this one has not
    except OSError as exc:
        _remove(temps)
        raise SapperError(f"cannot write {path}: {exc.strerror or exc}") from None


def temp_name_out(message: str, temp: Path, path: Path) -> str:
    """A writer's message about the temporary file, as the user knows it: about ``path``."""
    return message.replace(str(temp), str(path)).replace(temp.name, path.name)


def _parts(path: Path, sidecars: Sequence[str]) -> list[Path]:
    return [path, *(path.with_suffix(suffix) for suffix in sidecars)]


def _remove(paths: Sequence[Path]) -> None:
    for part in paths:
        part.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
