"""Logging in and out, and account management for admins (``/api/login``, ``/api/users``).

An organisation's admin manages its own organisation's accounts only (see ``account_access``).
Every change to an account, a login's token included, lands in the audit log in the name of
the user who made it; admins read an account's history at ``/api/users/{name}/history``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sapper.i18n import N_
from sapper.model.accounts import Role, User
from sapper.server.account_access import account_for, check_grant, check_organisation, visible, visible_history
from sapper.server.auth import COOKIE, admin, authenticated, cache, over_https, reader, verify_password
from sapper.server.context import registers, settings
from sapper.server.errors import ApiError
from sapper.server.features import dumps
from sapper.server.models import Login, NewUser, TokenOut, UserChange, UserOut
from sapper.server.permissions import check_link
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
        raise ApiError(401, N_("user name or password is wrong (or the account is disabled)"))
    days = settings(request).token_days
    token = accounts_by(request, user).issue_token(user.name, "login", days)
    response.set_cookie(
        COOKIE, token, max_age=int(days * 86400), httponly=True, samesite="strict", secure=over_https(request)
    )
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
    out.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=over_https(request))
    return out


@router.get("/me", response_model=UserOut, summary="Who the token belongs to")
def me(request: Request) -> UserOut:
    return user_out(reader(request))


@router.get("/users", response_model=list[UserOut], summary="The accounts of your organisation (admin)")
def list_users(request: Request) -> list[UserOut]:
    me_ = admin(request)
    return [user_out(u) for u in registers(request).accounts().list() if visible(me_, u)]


@router.post(
    "/users", response_model=UserOut, status_code=201, summary="Create an account in your organisation (admin)"
)
def add_user(body: NewUser, request: Request) -> UserOut:
    me_ = admin(request)
    organisation = me_.organisation if body.organisation is None else body.organisation
    check_grant(me_, body.role)
    check_organisation(me_, organisation)
    _check_team(request, me_, f"user {body.name!r}", body.team_id)
    user = User(name=body.name, role=body.role, organisation=organisation, team_id=body.team_id)
    # names are unique across the register: a name taken in another organisation is "exists already" too
    return user_out(accounts_by(request, me_).add(user, body.password))


@router.patch("/users/{name}", response_model=UserOut, summary="Change an account of your organisation (admin)")
def change_user(name: str, body: UserChange, request: Request) -> UserOut:
    me_ = admin(request)
    accounts = accounts_by(request, me_)
    current = account_for(me_, accounts, name)
    fields = body.model_dump(exclude_unset=True, exclude={"password"})
    if fields.get("role") is not None:
        check_grant(me_, Role.parse(fields["role"]), current.role)
    if fields.get("organisation") is not None:
        check_organisation(me_, fields["organisation"])
    if fields.get("team_id") is not None:
        _check_team(request, me_, f"user {name!r}", fields["team_id"])
    with accounts.backend.transaction():
        user = accounts.change(name, **fields) if fields else accounts.get(name)
        if body.password is not None:
            accounts.set_password(name, body.password)
    cache(request).clear()
    return user_out(user)


def _check_team(request: Request, actor: User, where: str, team_id: int | None) -> None:
    """A team leader's account names a team the admin sees and whose organisation it manages."""
    if team_id is not None:
        check_link(registers(request).get(), actor, where, "team_id", "team", team_id)


@router.delete("/users/{name}", status_code=204, summary="Remove an account and its tokens (admin)")
def remove_user(name: str, request: Request) -> Response:
    me_ = admin(request)
    accounts = accounts_by(request, me_)
    account_for(me_, accounts, name)
    if name == me_.name:
        raise ApiError(409, N_("you cannot remove your own account; ask another admin"))
    accounts.remove(name)
    cache(request).clear()
    return Response(status_code=204)


@router.get("/users/{name}/history", summary="Every change to an account: who, when, before and after (admin)")
def user_history(name: str, request: Request) -> Response:
    me_ = admin(request)
    entries = visible_history(me_, registers(request).accounts().history(name))
    if not entries:
        raise ApiError(404, N_("user {name!r} has no history (the account never existed)"), params={"name": name})
    out = [
        {"at": e.at.isoformat(), "user": e.user, "action": e.action, "before": e.before, "after": e.after}
        for e in entries
    ]
    return json_response(dumps({"kind": "user", "id": name, "entries": out}))
