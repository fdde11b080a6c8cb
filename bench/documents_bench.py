"""Seconds to make the PDF documents of the Palmyra scenario (issue: sitrep < 5 s, all completions < 60 s).

Builds the scenario into a temporary GeoPackage, then times, in this process:
- the web sitrep's JSON figures (the peer: what every sitrep document repeats);
- the sitrep PDF on the scenario's last day: its values (figures, by team, map, charts) and the typesetting;
- the completion report PDF of every released hazard.
Run: python bench/documents_bench.py [--repeat 3] [--keep DIR]  (DIR keeps the PDFs to look at)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sapper.report.completion import completion_document
from sapper.report.documents import sitrep_document
from sapper.report.pdf import Letterhead, render_pdf
from sapper.report.sitrep import sitrep
from sapper.scenarios.palmyra.build import build
from sapper.scenarios.palmyra.plan import make_plan
from sapper.store import init_register, open_register

DAY = date(2016, 4, 10)  # the scenario's last day of reports
HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="bench")


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best is shown")
    parser.add_argument("--keep", type=Path, help="write the PDFs into this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = str(Path(tmp) / "palmyra.gpkg")
        with init_register(target, user="bench") as reg:
            build(reg, make_plan())
        with open_register(target, read_only=True) as reg:
            import weasyprint  # noqa: F401 - its import (about 1 s) is paid once per process, not per document

            json_s, _ = best_of(args.repeat, lambda: sitrep(reg, DAY))
            values_s, context = best_of(args.repeat, lambda: sitrep_document(reg, DAY))
            pdf_s, pdf = best_of(args.repeat, lambda: render_pdf("sitrep.html", context, HEAD))
            released = [h.id for h in reg.list("hazard") if h.status.value == "released"]
            started = time.perf_counter()
            completions = {h: render_pdf("completion.html", completion_document(reg, h), HEAD) for h in released}
            completion_s = time.perf_counter() - started
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "sitrep.pdf").write_bytes(pdf)
        for hazard_id, body in completions.items():
            (args.keep / f"completion-{hazard_id}.pdf").write_bytes(body)
    total = values_s + pdf_s
    print(f"sitrep JSON figures (peer)            {json_s:6.2f} s")
    print(f"sitrep PDF: values, map, charts       {values_s:6.2f} s")
    print(f"sitrep PDF: typesetting (WeasyPrint)  {pdf_s:6.2f} s")
    print(f"sitrep PDF in all                     {total:6.2f} s  ({total / json_s:.0f}x the JSON; target < 5 s)")
    print(f"completion PDFs of {len(released)} released hazards  {completion_s:6.2f} s  (target < 60 s)")


if __name__ == "__main__":
    main()
