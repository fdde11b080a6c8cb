"""Wrong passwords are counted per name and client address in the register: every worker sees them, the guesser is
refused, the account's owner from another address still gets in. Real uvicorn servers on 127.0.0.1, clients
connecting from other loopback addresses (127.0.0.2, ...), both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sapper.model.accounts import Role, User
from sapper.server import create_app
from sapper.server.login_throttle import PER_ADDRESS, PER_NAME, WINDOW_S
from sapper.store import open_register
from sapper.store.accounts import Accounts
from sapper.store.login_failures import FAILURES, LoginFailures
from sapper.testing.server import Served, ServerThread, served_demo, serving

RIGHT = "the-right-one-2016"


@pytest.fixture(scope="module")
def workers(module_target: str) -> Iterator[tuple[Served, ServerThread]]:
    """Two server apps on one register, as two worker processes of `sapper serve --workers 2` are."""
    with served_demo(module_target) as first, serving(create_app(module_target)) as second:
        yield first, second


def add_user(target: str, name: str) -> None:
    with open_register(target) as reg:
        Accounts(reg.backend).add(User(name=name, role=Role.VIEWER, organisation="mac"), RIGHT)


def client(url: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x.y.z reaches a server on 127.0.0.1)."""
    return httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def login(c: httpx.Client, name: str, password: str, **headers: str) -> httpx.Response:
    return c.post("/api/login", json={"username": name, "password": password}, headers=headers)


def test_failures_on_one_worker_count_on_the_other_and_only_for_the_guessing_address(
    workers: tuple[Served, ServerThread],
) -> None:
    first, second = workers
    add_user(first.target, "victim")
    with client(first.url, "127.0.0.2") as guess_1, client(second.url, "127.0.0.2") as guess_2:
        for attempt in range(PER_ADDRESS):
            worker = guess_1 if attempt % 2 else guess_2
            assert login(worker, "victim", f"guess {attempt}").status_code == 401
        for worker in (guess_1, guess_2):
            refused = login(worker, "victim", RIGHT)
            assert refused.status_code == 429, worker.base_url
            assert "too many wrong passwords for 'victim' from your address" in refused.json()["description"]
            assert 0 < int(refused.headers["retry-after"]) <= WINDOW_S + 1
        assert guess_2.get("/api/me", auth=("victim", RIGHT)).status_code == 429  # Basic, as GIS clients send it
        # a header cannot move the guesser to another address: 127.0.0.2 is no proxy the server trusts
        forged = login(guess_1, "victim", RIGHT, **{"X-Forwarded-For": "10.20.30.40"})
        assert forged.status_code == 429
    with client(second.url, "127.0.0.3") as owner:
        assert login(owner, "victim", RIGHT).status_code == 200
        assert owner.get("/api/me", auth=("victim", RIGHT)).json()["name"] == "victim"


def test_a_trusted_proxy_s_forwarded_address_is_the_one_counted(workers: tuple[Served, ServerThread]) -> None:
    """uvicorn trusts X-Forwarded-For from this machine (FORWARDED_ALLOW_IPS): a TLS proxy in front passes the
    client's address, and each client behind it is counted on its own."""
    first, _ = workers
    add_user(first.target, "proxied")
    with client(first.url, "127.0.0.1") as proxy:
        for attempt in range(PER_ADDRESS):
            assert login(proxy, "proxied", f"guess {attempt}", **{"X-Forwarded-For": "203.0.113.7"}).status_code == 401
        assert login(proxy, "proxied", RIGHT, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
        assert login(proxy, "proxied", RIGHT, **{"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    with open_register(first.target) as reg:
        rows = reg.backend.execute(f"SELECT DISTINCT address FROM {FAILURES} WHERE name = 'proxied'").fetchall()
    assert rows == [("203.0.113.7",)]


def test_many_addresses_together_are_capped_per_name(workers: tuple[Served, ServerThread]) -> None:
    """A guesser with many addresses gets PER_NAME tries in the window, then the name is refused to everyone."""
    first, second = workers
    add_user(first.target, "spread")
    now = time.time()
    with open_register(first.target) as reg:
        failures = LoginFailures(reg.backend)
        for i in range(PER_NAME - 1):  # as a botnet's failures would leave them, one address each
            failures.record("spread", f"192.0.2.{i}", now - 60 + i * 0.1)
    with client(second.url, "127.0.0.4") as last_guess, client(first.url, "127.0.0.5") as owner:
        assert login(last_guess, "spread", "one more guess").status_code == 401
        refused = login(owner, "spread", RIGHT)
    assert refused.status_code == 429 and "from many addresses" in refused.json()["description"]


def test_the_owner_getting_in_forgets_the_failures_of_their_address(workers: tuple[Served, ServerThread]) -> None:
    first, second = workers
    add_user(first.target, "typist")
    with client(first.url, "127.0.0.6") as c, client(second.url, "127.0.0.6") as same_place:
        for attempt in range(PER_ADDRESS - 1):
            assert login(c, "typist", f"typo {attempt}").status_code == 401
        assert login(same_place, "typist", RIGHT).status_code == 200
        assert login(c, "typist", "typo again").status_code == 401  # the tenth failure, had counting not started over
        assert login(c, "typist", RIGHT).status_code == 200
