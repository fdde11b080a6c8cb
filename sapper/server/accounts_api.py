"""Logging in and out, and account management for admins (``/api/login``, ``/api/users``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sapper.model.accounts import User
from sapper.server.auth import COOKIE, admin, authenticated, cache, reader, verify_password
from sapper.server.context import registers, settings
from sapper.server.errors import ApiError
from sapper.server.models import Login, NewUser, TokenOut, UserChange, UserOut

router = APIRouter(prefix="/api", tags=["Accounts"])


def user_out(user: User) -> UserOut:
    return UserOut(
        name=user.name, role=user.role, organisation=user.organisation, team_id=user.team_id, active=user.active
    )


@router.post("/login", response_model=TokenOut, summary="Exchange a user name and password for a token")
def login(body: Login, request: Request, response: Response) -> TokenOut:
    accounts = registers(request).accounts()
    user = verify_password(request, body.username, body.password)
    if user is None:
        raise ApiError(401, "user name or password is wrong (or the account is disabled)")
    days = settings(request).token_days
    token = accounts.issue_token(user.name, "login", days)
    response.set_cookie(COOKIE, token, max_age=int(days * 86400), httponly=True, samesite="strict")
    return TokenOut(token=token, expires_in_days=days, user=user_out(user))


@router.post("/logout", status_code=204, summary="Withdraw the token this request carries")
def logout(request: Request, response: Response) -> Response:
    user = authenticated(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    if user is not None and token:
        registers(request).accounts().revoke(user.name, token)
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
    admin(request)
    user = User(name=body.name, role=body.role, organisation=body.organisation, team_id=body.team_id)
    return user_out(registers(request).accounts().add(user, body.password))


@router.patch("/users/{name}", response_model=UserOut, summary="Change an account (admin)")
def change_user(name: str, body: UserChange, request: Request) -> UserOut:
    admin(request)
    accounts = registers(request).accounts()
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
    registers(request).accounts().remove(name)
    cache(request).clear()
    return Response(status_code=204)
