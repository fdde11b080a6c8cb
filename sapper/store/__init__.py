"""The register on disk: GeoPackage (default) or PostGIS, behind one API."""

from __future__ import annotations

from pathlib import Path

from sapper.store.register import Register
from sapper.store.schema import LAYERS, layer
from sapper.store.sql import SqlBackend


def is_postgres(target: str) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def _backend(target: str | Path, create: bool) -> SqlBackend:
    if is_postgres(str(target)):
        from sapper.store.postgis import PostGISBackend

        return PostGISBackend(str(target), create=create)
    from sapper.store.gpkg import GeoPackageBackend

    return GeoPackageBackend(target, create=create)


def init_register(target: str | Path, user: str | None = None) -> Register:
    """Create (or bring up to date) a register: a .gpkg path or a postgresql:// URL."""
    backend = _backend(target, create=True)
    backend.ensure_schema(LAYERS)
    return Register(backend, user)


def open_register(target: str | Path, user: str | None = None) -> Register:
    """Open an existing register, adding any columns newer versions of sapper need."""
    backend = _backend(target, create=False)
    backend.ensure_schema(LAYERS)
    return Register(backend, user)


__all__ = ["Register", "init_register", "is_postgres", "layer", "open_register"]
