"""Property-based fuzzing of the whole API from its own OpenAPI document: no request gets a 500.

schemathesis generates requests for every operation the server describes (boundary and
invalid values, then random ones) and sends them as an admin, so the writes run too, over
real HTTP. Every operation is fuzzed on a GeoPackage; on PostGIS, whose types are stricter
(no NUL in text, bounded integers), the operations that write or take names in the path get
random cases too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from sapper.testing.server import Served, served_demo

EXAMPLES = 5  # random cases per operation, after the coverage cases the schema defines
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def on_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_demo(str(tmp_path_factory.mktemp("fuzz") / "register.gpkg"), plan_seconds=1) as api:
        yield api


@pytest.fixture(scope="module")
def on_postgis(pg_cluster: Any) -> Iterator[Served]:
    with served_demo(pg_cluster.new_database(), plan_seconds=1) as api:
        yield api


@pytest.fixture(scope="module")
def gpkg_schema(on_gpkg: Served) -> Any:
    return schemathesis.openapi.from_url(f"{on_gpkg.url}/openapi.json")


@pytest.fixture(scope="module")
def postgis_schema(on_postgis: Served) -> Any:
    # Random cases only: the boundary cases of every operation ran on the GeoPackage.
    random_only = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_url(f"{on_postgis.url}/openapi.json", config=random_only)


def _writes_or_names(ctx: Any) -> bool:
    return ctx.operation.method.upper() != "GET" or "{name}" in ctx.operation.path or "/api/" in ctx.operation.path


gpkg = schemathesis.pytest.from_fixture("gpkg_schema")
postgis = schemathesis.pytest.from_fixture("postgis_schema").include(_writes_or_names)


def _call(case: Any, api: Served) -> None:
    headers = {"Authorization": f"Bearer {api.demo.tokens['admin']}"}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])


@gpkg.parametrize()
@FUZZ
def test_no_request_makes_the_server_fail_on_gpkg(case: Any, on_gpkg: Served) -> None:
    _call(case, on_gpkg)


@postgis.parametrize()
@FUZZ
def test_no_request_makes_the_server_fail_on_postgis(case: Any, on_postgis: Served) -> None:
    _call(case, on_postgis)
