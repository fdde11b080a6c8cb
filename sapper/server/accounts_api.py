"""Logging in and out, and account management for admins (``/api/login``, ``/api/users``).

Every change to an account, a login's token included, lands in the audit log in the name of
the user who made it; admins read an account's history at ``/api/users/{name}/history``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sapper.model.accounts import User
from sapper.server.auth import COOKIE, admin, authenticated, cache, reader, verify_password
from sapper.server.context import registers, settings
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.models import Login, NewUser, TokenOut, UserChange, UserOut
from sapper.server.web import json_response
from sapper.store.accounts import Accounts

router = APIRouter(prefix="/api", tags=["Accounts"])


def accounts_by(request: Request, user: User) -> Accounts:
    """The register's accounts, changed in the name of ``user`` (for the audit log)."""
    return Accounts(registers(request).get().backend, by=user.name)


def user_out(user: User) -> UserOut:
    return UserOut(
        name=user.name, role=user.role, organisation=user.organisation, team_id=user.team_id, active=user.active
    )


@router.post("/login", response_model=TokenOut, summary="Exchange a user name and password for a token")
def login(body: Login, request: Request, response: Response) -> TokenOut:
    user = verify_password(request, body.username, body.password)
    if user is None:
        raise ApiError(401, "user name or password is wrong (or the account is disabled)")
    days = settings(request).token_days
    token = accounts_by(request, user).issue_token(user.name, "login", days)
    response.set_cookie(COOKIE, token, max_age=int(days * 86400), httponly=True, samesite="strict")
    return TokenOut(token=token, expires_in_days=days, user=user_out(user))


@router.post("/logout", status_code=204, summary="Withdraw the token this request carries")
def logout(request: Request, response: Response) -> Response:
    user = authenticated(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    if user is not None and token:
        accounts_by(request, user).revoke(user.name, token)
        cache(request).clear()
    out = Response(status_code=204)
    out.delete_cookie(COOKIE)
    return out


@router.get("/me", response_model=UserOut, summary="Who the token belongs to")
def me(request: Request) -> UserOut:
    return user_out(reader(request))


@router.get("/users", response_model=list[UserOut], summary="All accounts (admin)")
def list_users(request: Request) -> list[UserOut]:
    admin(request)
    return [user_out(u) for u in registers(request).accounts().list()]


@router.post("/users", response_model=UserOut, status_code=201, summary="Create an account (admin)")
def add_user(body: NewUser, request: Request) -> UserOut:
    me_ = admin(request)
    user = User(name=body.name, role=body.role, organisation=body.organisation, team_id=body.team_id)
    return user_out(accounts_by(request, me_).add(user, body.password))


@router.patch("/users/{name}", response_model=UserOut, summary="Change an account (admin)")
def change_user(name: str, body: UserChange, request: Request) -> UserOut:
    accounts = accounts_by(request, admin(request))
    fields = body.model_dump(exclude_unset=True, exclude={"password"})
    with accounts.backend.transaction():
        user = accounts.change(name, **fields) if fields else accounts.get(name)
        if body.password is not None:
            accounts.set_password(name, body.password)
    cache(request).clear()
    return user_out(user)


@router.delete("/users/{name}", status_code=204, summary="Remove an account and its tokens (admin)")
def remove_user(name: str, request: Request) -> Response:
    me_ = admin(request)
    if name == me_.name:
        raise ApiError(409, "you cannot remove your own account; ask another admin")
    accounts_by(request, me_).remove(name)
    cache(request).clear()
    return Response(status_code=204)


@router.get("/users/{name}/history", summary="Every change to an account: who, when, before and after (admin)")
def user_history(name: str, request: Request) -> Response:
    admin(request)
    entries = registers(request).accounts().history(name)
    if not entries:
        raise ApiError(404, f"user {name!r} has no history (the account never existed)")
    out = [
        {"at": e.at.isoformat(), "user": e.user, "action": e.action, "before": e.before, "after": e.after}
        for e in entries
    ]
    return json_response(dumps({"kind": "user", "id": name, "entries": out}))
