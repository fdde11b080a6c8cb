"""Refuse password checks to a client that keeps guessing, without locking the account's owner out.

Failures count per (user name, client address): an address that gets a name's password wrong too
often is refused for that name, while the owner, from another address, still gets in. So that many
addresses cannot guess together without bound, all failures for a name also count, to a higher cap.
The counts live in the register (``sapper.store.login_failures``), shared by every server process.

The client address is the ASGI peer (``request.client``). uvicorn replaces it by the
``X-Forwarded-For`` address only for a proxy it is told to trust (``FORWARDED_ALLOW_IPS``, by default
this machine's own address), so a client cannot pick its address with a header.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request

from sapper.i18n import N_
from sapper.server.context import registers
from sapper.server.errors import ApiError
from sapper.store.login_failures import LoginFailures

WINDOW_S = 600.0
# Assumptions, within NIST SP 800-63B 5.2.2 (a verifier limits consecutive failed attempts on an
# account to at most 100) and the OWASP Authentication Cheat Sheet (throttle, do not lock the owner out):
PER_ADDRESS = 10  # wrong passwords for one name from one address in WINDOW_S: a person mistyping never gets there
PER_NAME = 100  # wrong passwords for one name from all addresses together in WINDOW_S
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Throttle:
    """The limits; the counts are in the register."""

    per_address: int = PER_ADDRESS
    per_name: int = PER_NAME
    window_s: float = WINDOW_S

    def check(self, failures: LoginFailures, name: str, address: str) -> int:
        """429 with Retry-After when this address, or everyone together, failed too often for ``name``;
        else how many recent failures this address has for the name."""
        now = time.time()
        recent = failures.since(name, now - self.window_s)
        from_here = [at for addr, at in recent if addr == address]
        for times, limit in ((from_here, self.per_address), ([at for _, at in recent], self.per_name)):
            if len(times) >= limit:
                wait = max(1, int(times[-limit] + self.window_s - now) + 1)
                if limit == self.per_address:
                    message = N_("too many wrong passwords for {name!r} from your address; try again in {wait} s")
                else:
                    message = N_("too many wrong passwords for {name!r} from many addresses; try again in {wait} s")
                raise ApiError(429, message, {"Retry-After": str(wait)}, {"name": name, "wait": wait})
        return len(from_here)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None and request.client.host else UNKNOWN_ADDRESS


def throttle(request: Request) -> Throttle:
    app = request.app
    if not hasattr(app.state, "throttle"):
        app.state.throttle = Throttle()
    return app.state.throttle


def failures(request: Request) -> LoginFailures:
    return LoginFailures(registers(request).primary().backend)  # written on reads too (Basic auth)


def before_password(request: Request, name: str) -> int:
    """Refuse (429) a client that failed too often; else its recent failures for the name."""
    return throttle(request).check(failures(request), name, client_address(request))


def after_password(request: Request, name: str, right: bool, failed_before: int) -> None:
    """Count a wrong password; a right one forgets this address's failures for the name."""
    if right:
        if failed_before:
            failures(request).clear(name, client_address(request))
    else:
        failures(request).record(name, client_address(request), time.time())
