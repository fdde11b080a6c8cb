"""Fixtures: every register test runs on a GeoPackage file and on a real PostGIS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper import Register, init_register
from sapper.testing.postgis import Cluster

BACKENDS = ["gpkg", "postgis"]

# The modules that take longest, longest first (seconds of their tests on a 2-core machine, 2026-12-07,
# from `pytest -n 2 --dist loadfile --junitxml=...`): with --dist loadfile a module runs whole in one
# process, so these start the run and the short ones even out its end. xdist's own order (most tests
# first) left the API fuzzing, two tests of three minutes, for last, run alone while the other process
# had finished. The rest follow by their number of tests, as xdist would order them.
LONGEST_MODULES = (
    "test_server_fuzz.py",  # 200-370
    "test_plan_cli.py",  # 107
    "test_security_reads.py",  # 92
    "test_ui_browser.py",  # 74
    "test_backtest.py",  # 72
    "test_roundtrip.py",  # 64
    "test_ui_offline_browser.py",  # 60
    "test_documents.py",  # 57
    "test_ui_plan_browser.py",  # 57
    "test_export.py",  # 54
    "test_report_monthly.py",  # 50
    "test_cli.py",  # 50
    "test_bulk_polygons.py",  # 47
    "test_server_plan_runs.py",  # 45
)
pytest_plugins = ["sapper.testing.browser"]  # the browser tests' fixtures


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first, then by number of tests (run with xdist's --no-loadscope-reorder)."""
    rank = {name: i for i, name in enumerate(LONGEST_MODULES)}
    tests = Counter(item.path for item in items)
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), -tests[item.path], str(item.path)))


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
