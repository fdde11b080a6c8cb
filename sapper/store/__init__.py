"""The register on disk: GeoPackage (default) or PostGIS, behind one API."""

from __future__ import annotations

from pathlib import Path

from sapper.model.errors import SapperError
from sapper.store.register import Register
from sapper.store.schema import LAYERS, layer
from sapper.store.sql import SqlBackend


def is_postgres(target: str) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def _backend(target: str | Path, create: bool, read_only: bool = False) -> SqlBackend:
    if is_postgres(str(target)):
        from sapper.store.postgis import PostGISBackend

        return PostGISBackend(str(target), create=create, read_only=read_only)
    from sapper.store.gpkg import GeoPackageBackend

    return GeoPackageBackend(target, create=create, read_only=read_only)


def init_register(target: str | Path, user: str | None = None) -> Register:
    """Create (or bring up to date) a register: a .gpkg path or a postgresql:// URL."""
    backend = _backend(target, create=True)
    backend.ensure_schema(LAYERS)
    return Register(backend, user)


def open_register(target: str | Path, user: str | None = None, *, read_only: bool = False) -> Register:
    """Open an existing register, adding any columns newer versions of sapper need.

    ``read_only`` registers are opened so that nothing can change them (for list, show,
    export...); one that needs those columns first is refused with a sentence instead.
    """
    backend = _backend(target, create=False, read_only=read_only)
    if not read_only:
        backend.ensure_schema(LAYERS)
    elif not backend.schema_is_current(LAYERS):
        backend.close()
        raise SapperError(
            f"{target} was written by an older sapper; a command that writes (or `sapper init` on it) "
            "brings it up to date first"
        )
    return Register(backend, user)


__all__ = ["Register", "init_register", "is_postgres", "layer", "open_register"]
