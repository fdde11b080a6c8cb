"""Installs are reproducible: every dependency comes at a version pinned in constraints.txt."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {_canonical(m.group(1)): m.group(2) for m in map(PIN.match, lines) if m}


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *extras["test"], *extras["bench"]]


def test_every_declared_dependency_is_pinned() -> None:
    pins = _pins()
    unpinned = [req for req in _declared() if _canonical(_name(req)) not in pins]
    assert not unpinned, f"not in constraints.txt (run ./install.sh --lock): {unpinned}"


def test_the_installed_packages_are_the_pinned_ones() -> None:
    """What the tests run on is what the lock says (a fresh install from install.sh gives the same)."""
    pins = _pins()
    differ = {}
    for dist in metadata.distributions():
        name = _canonical(dist.metadata["Name"])
        if name in pins and name != "sapper" and dist.version != pins[name]:
            differ[name] = (dist.version, pins[name])
    assert not differ, f"installed versions differ from constraints.txt (installed, pinned): {differ}"


def test_install_script_installs_from_the_lock() -> None:
    script = (ROOT / "install.sh").read_text()
    installs = [line for line in script.splitlines() if "pip install" in line and "$fresh" not in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
