"""Milliseconds the translations cost: reading the catalogues from their .po sources (once per process,
at first use) and typesetting the sitrep PDF of the Palmyra scenario in English, Arabic and Russian.

Run: python bench/i18n_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from sapper.i18n import catalogues
from sapper.report.documents import sitrep_document
from sapper.report.pdf import Letterhead, render_pdf
from sapper.scenarios.palmyra.build import build
from sapper.scenarios.palmyra.plan import make_plan
from sapper.store import init_register, open_register

DAY = date(2016, 4, 10)  # the scenario's last day of reports
HEAD = Letterhead(organisation="Palmyra Mine Action Centre", author="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    sizes = {language: len(catalogues.messages(language)) for language in ("ar", "ru")}
    print(f"catalogues read from .po: {1000 * (time.perf_counter() - start):.1f} ms ({sizes} messages)")
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "palmyra.gpkg")
        with init_register(target, user="bench") as reg:
            build(reg, make_plan())
        with open_register(target, read_only=True) as reg:
            for language in ("en", "ar", "ru"):
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    render_pdf("sitrep.html", sitrep_document(reg, DAY), HEAD, language)
                    best = min(best, time.perf_counter() - start)
                print(f"sitrep PDF, {language}: {best:.2f} s (best of {args.repeat})")


if __name__ == "__main__":
    main()
