"""Who is asking, and may they: bearer tokens, HTTP Basic for GIS clients, and roles.

Wrong passwords are counted per name and client address in the register (``login_throttle``).
A token is looked up in the database and remembered for a few seconds, so a map client
asking for hundreds of tiles does not cost a query each; a password is checked with argon2
(slow on purpose) and the result remembered the same way for Basic clients, which send it
with every request. The session cookie set at login is accepted for reading only (GET),
so a page of another site cannot make a browser write on a user's behalf.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from sapper.i18n import N_, translate
from sapper.model.accounts import Role, User
from sapper.server.context import registers, settings
from sapper.server.errors import ApiError
from sapper.server.login_throttle import after_password, before_password

CACHE_SECONDS = 10.0
COOKIE = "sapper_token"
ANONYMOUS = User(name="anonymous", role=Role.VIEWER, organisation="")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sapper"'}


class _Cache:
    """Credentials checked recently: digest -> (user or None, when checked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[User | None, float]] = {}

    def get(self, key: str) -> tuple[bool, User | None]:
        with self._lock:
            hit = self._seen.get(key)
        if hit is None or time.monotonic() - hit[1] > CACHE_SECONDS:
            return False, None
        return True, hit[0]

    def put(self, key: str, user: User | None) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (user, time.monotonic())

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def verify_password(request: Request, name: str, password: str) -> User | None:
    """The user if the password is theirs, counting wrong guesses per name and client address."""
    failed_before = before_password(request, name)
    user = registers(request).accounts().verify(name, password)
    after_password(request, name, user is not None, failed_before)
    return user


def over_https(request: Request) -> bool:
    """Whether clients reach the server over https: so the session cookie is sent over https only."""
    base_url = getattr(settings(request), "base_url", None) or ""
    return request.url.scheme == "https" or base_url.lower().startswith("https://")


def cache(request: Request) -> _Cache:
    app = request.app
    if not hasattr(app.state, "auth_cache"):
        app.state.auth_cache = _Cache()
    return app.state.auth_cache


def _credentials(request: Request) -> tuple[str, str] | None:
    """('bearer', token) or ('basic', 'name:password') from the request, if any."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer" and value:
            return "bearer", value
        if scheme == "basic" and value:
            try:
                return "basic", base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(
                    401, N_("the Basic credentials are not valid base64 of name:password"), CHALLENGE
                ) from None
        raise ApiError(401, N_("send 'Authorization: Bearer TOKEN' (or Basic name:password)"), CHALLENGE)
    cookie = request.cookies.get(COOKIE)
    if cookie and request.method in ("GET", "HEAD"):
        return "bearer", cookie
    return None


async def reader_on_loop(request: Request) -> User:
    """``reader`` for an endpoint on the event loop: credentials not checked recently are checked
    in a worker thread (they are looked up in the accounts, and a password takes a slow hash)."""
    creds = _credentials(request)
    if creds is not None and not hasattr(request.state, "user") and not cache(request).get(_key(*creds))[0]:
        await run_in_threadpool(authenticated, request)
    return reader(request)


def _key(kind: str, secret: str) -> str:
    return hashlib.sha256(f"{kind}\0{secret}".encode()).hexdigest()


def _check(request: Request, kind: str, secret: str) -> User | None:
    key = _key(kind, secret)
    known, user = cache(request).get(key)
    if known:
        return user
    accounts = registers(request).accounts()
    if kind == "bearer":
        user = accounts.user_for_token(secret)
    else:
        name, sep, password = secret.partition(":")
        user = verify_password(request, name, password) if sep else None
    cache(request).put(key, user)
    return user


def authenticated(request: Request) -> User | None:
    """The user the request carries valid credentials for; None if it carries none."""
    if hasattr(request.state, "user"):
        return request.state.user
    creds = _credentials(request)
    user = None
    if creds is not None:
        user = _check(request, *creds)
        if user is None:
            bearer = N_("the token is unknown, expired or revoked; log in again")
            wrong = N_("the user name or password is wrong; log in again")
            raise ApiError(401, bearer if creds[0] == "bearer" else wrong, CHALLENGE)
    request.state.user = user
    return user


def reader(request: Request) -> User:
    """Anyone who may read: a logged-in user, or an anonymous viewer on a public server."""
    user = authenticated(request)
    if user is not None:
        return user
    if settings(request).public:
        return ANONYMOUS
    raise ApiError(401, N_("log in first: POST /api/login, then send 'Authorization: Bearer TOKEN'"), CHALLENGE)


def need(request: Request, role: Role, doing: str) -> User:
    """The user, if their role allows ``doing``; 401 without credentials, 403 with too few rights."""
    user = authenticated(request)
    if user is None:
        raise ApiError(401, N_("log in to {doing}"), CHALLENGE, {"doing": translate(doing)})
    if not user.can(role):
        message = N_("{name} is a {role}; to {doing} takes a {needed} or above")
        params = {"name": user.name, "role": user.role.value, "doing": translate(doing), "needed": role.value}
        raise ApiError(403, message, params=params)
    return user


def writer(request: Request) -> User:
    return need(request, Role.FIELD_TEAM, N_("change the register"))


def supervisor(request: Request) -> User:
    return need(request, Role.SUPERVISOR, N_("do this"))


def admin(request: Request) -> User:
    return need(request, Role.ADMIN, N_("manage accounts"))


def visible_to(user: User) -> str:
    """The organisation whose restricted records the user may see (none, for anonymous visitors), and
    whose jobs they share. A user who sees every organisation has the whole register's (""): a plan they
    run is made from every record, so it and its stored plan must not go to their own organisation."""
    if user is ANONYMOUS:
        return "(anonymous)"
    return "" if user.all_organisations else user.organisation
