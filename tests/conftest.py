"""Fixtures: every register test runs on a GeoPackage file and on a real PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper import Register, init_register
from sapper.testing.postgis import Cluster

BACKENDS = ["gpkg", "postgis"]
pytest_plugins = ["sapper.testing.browser"]  # the browser tests' fixtures


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh register lives: a .gpkg path or a PostGIS URL."""
    if request.param == "gpkg":
        return str(tmp_path / "register.gpkg")
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture(scope="module", params=BACKENDS)
def module_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh register that one module's tests share (a served one, say): a .gpkg path or a PostGIS URL."""
    if request.param == "gpkg":
        return str(tmp_path_factory.mktemp(request.module.__name__) / "register.gpkg")
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def reg(target: str) -> Iterator[Register]:
    register = init_register(target, user="tester")
    yield register
    register.close()
