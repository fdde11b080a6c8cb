"""``sapper worker REGISTER``: make the register's background jobs (plans, reports) in a process of its own."""

from __future__ import annotations

import signal

import typer

from sapper.cli.app import app, console, friendly, open_target, register_target
from sapper.i18n import _
from sapper.jobs.table import STALE_S, JobTable


@app.command()
@friendly
def worker(
    register: str = typer.Argument(None, help="The register whose jobs to make: a .gpkg file or postgresql:// URL."),
    stalled_after: float = typer.Option(
        STALE_S,
        min=5,
        help="Seconds without a heartbeat after which another worker's job is taken for dead and made again.",
    ),
) -> None:
    """Make the jobs servers queue (plans, PDF reports) until stopped with Ctrl-C or SIGTERM.

    Start as many as the machines have cores to spare, on any machine that reaches a PostGIS register
    (on the machine of a GeoPackage register). A job whose worker dies is made again by another.
    """
    from sapper.jobs import make_worker
    from sapper.store import is_postgres
    from sapper.store.postgis import redact

    target = register_target(register)
    with open_target(target) as reg:
        JobTable(reg.backend).ensure()
    working = make_worker(target, stalled_after)

    def ask_stop(signum: int, frame: object) -> None:  # the job being made goes back to the queue
        working.stop()

    signal.signal(signal.SIGTERM, ask_stop)
    signal.signal(signal.SIGINT, ask_stop)
    console.print(
        _("making the jobs of {target}", target=redact(target) if is_postgres(target) else target), highlight=False
    )
    working.run()
    console.print(_("worker stopped"), highlight=False)
