"""A real uvicorn server on 127.0.0.1 in a background thread, and a small register to serve.

Tests and benchmarks talk to it over a socket like any client; nothing is mocked.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import uvicorn
from shapely.geometry import Point, Polygon

from sapper.model.accounts import Role, User
from sapper.model.records import Hazard, Item, ProtectedSite, Team
from sapper.store import init_register
from sapper.store.accounts import Accounts
from sapper.testing.copies import fill

PASSWORD = "correct horse battery"
# Around Palmyra's ancient city (lon 38.27, lat 34.55).
LON, LAT = 38.27, 34.55


def square(lon: float, lat: float, size: float = 0.001) -> Polygon:
    return Polygon([(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)])


@dataclass
class Demo:
    """What the demo register holds: ids, users and their tokens."""

    hazards: list[int]
    items: list[int]
    sites: list[int]
    teams: list[int]
    secret_hazard: int  # restricted, of the other organisation
    tokens: dict[str, str]


def seed(target: str) -> Demo:
    """A register with two organisations, a restricted hazard and one user per role."""
    reg = init_register(target, user="seed")
    try:
        teams = reg.add_many(
            [
                Team(name="Manual 1", kind="manual", geometry=Point(LON, LAT), organisation="mac", personnel=8),
                Team(name="Dogs 2", kind="dog", geometry=Point(LON + 0.01, LAT), organisation="mac", personnel=4),
                Team(name="Other 3", kind="eod", geometry=Point(LON, LAT + 0.01), organisation="ngo", personnel=5),
            ]
        )
        hazards = reg.add_many(
            [
                Hazard(
                    name=f"Hazard {i}",
                    geometry=square(LON + 0.002 * i, LAT),
                    priority=1 + i % 3,
                    land_use="road" if i == 0 else "residential",
                    reported_on=date(2016, 4, 1 + i),
                    organisation="mac",
                )
                for i in range(5)
            ]
        )
        secret = reg.add(
            Hazard(
                name="Depot (restricted)",
                geometry=square(LON + 0.02, LAT + 0.02),
                organisation="ngo",
                restricted=True,
                reported_on=date(2016, 4, 3),
            )
        )
        items = reg.add_many(
            [
                Item(
                    category="uxo" if i % 2 else "ap_mine",
                    geometry=Point(LON + 0.0005 + 0.002 * (i % 5), LAT + 0.0005),
                    found_on=date(2016, 4, 1 + i % 10),
                    organisation="mac",
                    team_id=teams[0].id,
                )
                for i in range(25)
            ]
        )
        sites = reg.add_many(
            [
                ProtectedSite(
                    name="Temple of Bel",
                    kind="monument",
                    geometry=square(LON + 0.03, LAT, 0.002),
                    buffer_m=100,
                    forbidden_methods=("destruction_in_place",),
                    heritage_value=5,
                    organisation="mac",
                )
            ]
        )
        accounts = Accounts(reg.backend).ensure()
        users = {
            "admin": User(name="admin", role=Role.ADMIN, organisation="mac"),
            "super": User(name="super", role=Role.SUPERVISOR, organisation="mac"),
            "leader": User(name="leader", role=Role.FIELD_TEAM, organisation="mac", team_id=teams[0].id),
            "viewer": User(name="viewer", role=Role.VIEWER, organisation="mac"),
            "ngo": User(name="ngo", role=Role.SUPERVISOR, organisation="ngo"),
        }
        tokens = {}
        for name, user in users.items():
            accounts.add(user, PASSWORD)
            tokens[name] = accounts.issue_token(name, "test")
        return Demo(
            hazards=[h.id for h in hazards],
            items=[i.id for i in items],
            sites=[s.id for s in sites],
            teams=[t.id for t in teams],
            secret_hazard=secret.id,
            tokens=tokens,
        )
    finally:
        reg.close()


def seeded(target: str) -> Demo:
    """What ``seed(target)`` writes and returns, copied from a register seeded once per process
    (sapper.testing.copies): the same ids, users and tokens, without hashing five passwords again."""
    return fill(target, "demo", seed)


class ServerThread:
    """uvicorn serving an app on a socket bound to 127.0.0.1, in a daemon thread."""

    def __init__(self, app: object) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def serving(app: object) -> Iterator[ServerThread]:
    server = ServerThread(app).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Served:
    """A demo register served over HTTP, and a client per demo user."""

    url: str
    target: str
    demo: Demo

    def client(self, user: str | None = None, **kwargs: object) -> object:
        import httpx

        headers = {"Authorization": f"Bearer {self.demo.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


@contextmanager
def served_demo(target: str, **app_options: object) -> Iterator[Served]:
    """Seed ``target`` (new) with the demo register, a copy of one seeded once, and serve it until the block ends."""
    from sapper.server import create_app

    demo = seeded(target)
    with serving(create_app(target, **app_options)) as server:
        yield Served(server.url, target, demo)
