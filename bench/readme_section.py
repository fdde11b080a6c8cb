"""Bench figures go into ``bench/README.md`` between a script's own markers, replacing the last run's."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(name: str, text: str, heading: str | None = None, path: Path = README) -> Path:
    """Put ``text`` between ``<!-- name:start -->`` and ``<!-- name:end -->``.

    Without the markers, a ``heading`` adds the section at the end; with no heading that is an error,
    since the figures would land away from the prose that explains them.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{text}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        path.write_text(head + block + rest.split(end, 1)[1])
    elif heading is not None:
        path.write_text(current.rstrip() + f"\n\n## {heading}\n\n{block}\n")
    else:
        raise SystemExit(f"{path} has no {start} marker")
    return path
