"""The package's layout: no two modules import each other, not even lazily or for type hints only.

A pair that does is one piece of code in two files; a change to one breaks the other. The
imports are read from the source (every ``import`` anywhere in a module), not from a run."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sapper"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The sapper modules ``name`` imports anywhere in its source."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    found.add(full)
                elif base in known:
                    found.add(base)
    return found - {name}


def test_no_two_modules_import_each_other() -> None:
    known = module_names()
    edges = {name: imported(name, path, known) for name, path in known.items()}
    assert len(edges) > 100 and sum(map(len, edges.values())) > 300  # the walk found the package's imports
    mutual = sorted((a, b) for a, deps in edges.items() for b in deps if a < b and a in edges.get(b, set()))
    assert not mutual, f"modules that import each other: {mutual}"
