"""``sapper serve REGISTER`` and ``sapper user ...``: run the operations server and manage its accounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.table import Table

from sapper.cli.app import app, console, err, friendly, open_target, register_target
from sapper.i18n import _, parse_language
from sapper.model.accounts import Role, User
from sapper.model.errors import SapperError
from sapper.store.accounts import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, PASSWORD_SET, Accounts, check_token_days
from sapper.store.audit_rows import AuditEntry

LANGUAGE_HELP = "The user's language for the web UI, API errors and documents: en, ar or ru (default: the browser's)."
users = typer.Typer(help="Accounts of the operations server: users, roles, passwords and tokens.")
app.add_typer(users, name="user")
ROLES = (
    ", ".join(r.value for r in Role)
    + " (admin: the accounts of its own organisation; register_admin: every organisation's accounts and records,"
    " given only here, never over the API)"
)


@app.command()
@friendly
def serve(
    register: str = typer.Argument(None, help="The register to serve: a .gpkg file or postgresql:// URL."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for every network)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    public: bool = typer.Option(False, help="Let visitors who are not logged in read unrestricted records."),
    workers: int = typer.Option(1, min=1, help="Worker processes (more serve more map clients at once)."),
    imagery: Path = typer.Option(
        None, help="A GeoTIFF (any CRS, e.g. a drone orthophoto in UTM) or an MBTiles file to show under the map."
    ),
    token_days: float = typer.Option(
        DEFAULT_TOKEN_DAYS, help=f"Days a login's token lives (at most {MAX_TOKEN_DAYS})."
    ),
    max_body_mb: float = typer.Option(
        20.0, min=0.001, help="Largest request body read, in MB (10^6 bytes); a larger one is refused with 413."
    ),
    max_vertices: int = typer.Option(
        100_000, min=4, help="Most vertices in one geometry a client sends; more is refused with 422."
    ),
    base_url: str = typer.Option(
        None,
        help="The address clients use, e.g. https://mac.example/sapper behind a reverse proxy: every link starts "
        "with it. Without it, links use the Host asked for only if it names this machine.",
    ),
    field_auto_approve: bool = typer.Option(
        False, help="Write field submissions (ODK Collect, KoboCollect) without waiting for a supervisor's approval."
    ),
    read_replica: str = typer.Option(
        None,
        help="A hot standby of the PostGIS register (postgresql://..., made with pg_basebackup -R): map and list "
        "reads go there, writes and a user's reads of their own writes to the register itself.",
    ),
    worker: bool = typer.Option(
        True,
        "--worker/--no-worker",
        help="Also make the register's background jobs (plans, reports) here; with --no-worker this server only "
        "queues them for other servers and `sapper worker` processes on the same register.",
    ),
    tile_stale_s: float = typer.Option(
        60.0,
        min=0,
        help="Seconds a national-zoom map tile may be served out of date by records added, moved or edited while "
        "it is built again in the background (0: never; a record hidden or deleted there is never served stale).",
    ),
) -> None:
    """Serve the register: OGC API - Features at /ogc, the REST API at /api, the web UI."""
    import uvicorn

    from sapper.server.app import (
        BASE_URL_ENV,
        FIELD_AUTO_APPROVE_ENV,
        IMAGERY_ENV,
        MAX_BODY_ENV,
        MAX_VERTICES_ENV,
        PUBLIC_ENV,
        READ_REPLICA_ENV,
        TARGET_ENV,
        TILE_STALE_ENV,
        TOKEN_DAYS_ENV,
        WORKER_ENV,
        create_app,
    )
    from sapper.server.hosts import parse_base_url
    from sapper.store.replica import replica_for

    check_token_days(token_days, "--token-days")
    base_url = parse_base_url(base_url)
    target = register_target(register)
    replica = replica_for(target, read_replica)
    with open_target(target) as reg:
        n = Accounts(reg.backend).ensure().count()
        if replica is not None and workers > 1:  # else create_app checks it, in this process
            replica.check(reg.backend)
    if n == 0:
        hint = _(
            "no user accounts yet: create one with `sapper -r {target} user add NAME --role register_admin` "
            "(manages every organisation's accounts), or `--role admin --org ORG` to manage one organisation's",
            target=target,
        )
        err.print(hint + ("" if public else _("; until then nobody can log in")), style="yellow", highlight=False)
    address = base_url or f"http://{host}:{port}"
    console.print(
        _("serving {target} on {address}/ (OGC API: /ogc, REST API: /api)", target=target, address=address),
        highlight=False,
    )
    picture = str(imagery) if imagery else None
    if workers == 1:
        limits = {"max_body_mb": max_body_mb, "max_vertices": max_vertices, "base_url": base_url}
        options = {"field_auto_approve": field_auto_approve, "read_replica": read_replica, "worker": worker}
        options["tile_stale_s"] = tile_stale_s
        app_ = create_app(target, public=public, imagery=picture, token_days=token_days, **limits, **options)
        uvicorn.run(app_, host=host, port=port, log_level="info")
        return
    os.environ[TARGET_ENV] = target
    os.environ[PUBLIC_ENV] = "1" if public else "0"
    os.environ[IMAGERY_ENV] = picture or ""
    os.environ[TOKEN_DAYS_ENV] = str(token_days)
    os.environ[MAX_BODY_ENV] = str(max_body_mb)
    os.environ[MAX_VERTICES_ENV] = str(max_vertices)
    os.environ[BASE_URL_ENV] = base_url or ""
    os.environ[FIELD_AUTO_APPROVE_ENV] = "1" if field_auto_approve else "0"
    os.environ[READ_REPLICA_ENV] = read_replica or ""
    os.environ[WORKER_ENV] = "1" if worker else "0"
    os.environ[TILE_STALE_ENV] = str(tile_stale_s)
    uvicorn.run("sapper.server.app:from_environment", factory=True, host=host, port=port, workers=workers)


def _accounts() -> Accounts:
    """The register's accounts, changed in the name of the CLI's user (``-u``, SAPPER_USER or the login)."""
    reg = open_target()
    return Accounts(reg.backend, by=reg.user).ensure()


def _password(name: str, stdin: bool) -> str:
    """From standard input (for scripts), SAPPER_PASSWORD, or asked twice without echo."""
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("SAPPER_PASSWORD"):
        return os.environ["SAPPER_PASSWORD"]
    return typer.prompt(_("password for {name}", name=name), hide_input=True, confirmation_prompt=True)


@users.command("add")
@friendly
def add_user(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    role: str = typer.Option("viewer", help=f"One of: {ROLES}."),
    organisation: str = typer.Option("", "--organisation", "--org", help="The organisation the user works for."),
    team: int = typer.Option(None, help="For a field_team user: the team they lead and report for."),
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
    language: str = typer.Option(None, help=LANGUAGE_HELP),
) -> None:
    """Create an account (the password is asked for, or read from SAPPER_PASSWORD or stdin)."""
    chosen = parse_language(language) if language else None
    user = User(name=name, role=Role.parse(role), organisation=organisation, team_id=team, language=chosen)
    accounts = _accounts()
    try:
        accounts.add(user, _password(name, password_stdin))
    finally:
        accounts.backend.close()
    added = _("added {role} {name}", role=user.role.value, name=name)
    console.print(added + (_(" of {organisation}", organisation=organisation) if organisation else ""))


@users.command("list")
@friendly
def list_users() -> None:
    """Every account with its role, organisation and team."""
    accounts = _accounts()
    try:
        rows = accounts.list()
    finally:
        accounts.backend.close()
    table = Table(_("name"), _("role"), _("organisation"), _("team"), _("active"), _("created"))
    for u in rows:
        created = u.created_at.strftime("%Y-%m-%d") if u.created_at else ""
        team = "" if u.team_id is None else str(u.team_id)
        table.add_row(u.name, u.role.value, u.organisation, team, _("yes") if u.active else _("no"), created)
    console.print(table)


@users.command("change")
@friendly
def change_user(
    name: str = typer.Argument(...),
    role: str = typer.Option(None, help=f"One of: {ROLES}."),
    organisation: str = typer.Option(None, "--organisation", "--org"),
    team: int = typer.Option(None, help="The team a field_team user reports for."),
    active: bool = typer.Option(None, "--active/--disabled", help="Disable an account (its tokens go too)."),
    language: str = typer.Option(None, help=LANGUAGE_HELP),
) -> None:
    """Change an account's role, organisation, team, language, or disable it."""
    chosen = parse_language(language) if language else None
    given = {"role": role, "organisation": organisation, "team_id": team, "active": active, "language": chosen}
    fields = {k: v for k, v in given.items() if v is not None}
    if not fields:
        raise SapperError(
            _("nothing to change: give --role, --organisation, --team, --language or --active/--disabled")
        )
    accounts = _accounts()
    try:
        user = accounts.change(name, **fields)
    finally:
        accounts.backend.close()
    console.print(
        _(
            "{name}: {role}, organisation {organisation!r}, active {active}, language {language}",
            name=name,
            role=user.role.value,
            organisation=user.organisation,
            active=user.active,
            language=user.language or "-",
        )
    )


@users.command("password")
@friendly
def set_password(name: str = typer.Argument(...), password_stdin: bool = typer.Option(False)) -> None:
    """Set a new password; the user's tokens are withdrawn."""
    accounts = _accounts()
    try:
        accounts.set_password(name, _password(name, password_stdin))
    finally:
        accounts.backend.close()
    console.print(_("new password set for {name}; their tokens were withdrawn", name=name))


@users.command("remove")
@friendly
def remove_user(name: str = typer.Argument(...)) -> None:
    """Delete an account and its tokens (what they wrote stays in the audit log)."""
    accounts = _accounts()
    try:
        accounts.remove(name)
    finally:
        accounts.backend.close()
    console.print(_("removed {name}", name=name))


@users.command("token")
@friendly
def token(
    name: str = typer.Argument(...),
    label: str = typer.Option("cli", help="What the token is for (e.g. qgis, field-tablet-3)."),
    days: float = typer.Option(DEFAULT_TOKEN_DAYS, help=f"Days until it expires (at most {MAX_TOKEN_DAYS})."),
) -> None:
    """Issue an access token (shown once) for a GIS client or a script."""
    accounts = _accounts()
    try:
        secret = accounts.issue_token(name, label, days)
    finally:
        accounts.backend.close()
    typer.echo(secret)


@users.command("revoke")
@friendly
def revoke(name: str = typer.Argument(...)) -> None:
    """Withdraw every token of a user (running servers forget them within seconds)."""
    accounts = _accounts()
    try:
        accounts.get(name)
        n = accounts.revoke(name)
    finally:
        accounts.backend.close()
    console.print(_("withdrew {n} token(s) of {name}", n=n, name=name))


@users.command("history")
@friendly
def history(name: str = typer.Argument(...)) -> None:
    """Every change to an account from the audit log: who, when, and what changed (never a secret)."""
    accounts = _accounts()
    try:
        entries = accounts.history(name)
    finally:
        accounts.backend.close()
    if not entries:
        raise SapperError(_("user {name!r} has no history (the account never existed)", name=name))
    headers = (_("when (UTC)"), _("who"), _("action"), _("changes"))
    table = Table(*headers, title=_("History of user {name}", name=name), title_justify="left")
    for entry in entries:
        table.add_row(entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.user, entry.action, account_changes(entry))
    console.print(table)


def account_changes(entry: AuditEntry) -> str:
    """One account change in words: the fields that changed, or the token issued or withdrawn."""
    before, after = entry.before or {}, entry.after or {}
    if entry.action == "token":
        return _("token {label!r} issued, expires {expires}", label=after.get("label"), expires=after.get("expires_at"))
    if entry.action == "revoke":
        labels = [t["label"] for t in before.get("tokens", [])]
        return _("{n} token(s) withdrawn: {labels}", n=len(labels), labels=", ".join(labels))
    if entry.action == "insert":
        fields = ", ".join(f"{k} {after[k]!r}" for k in ("role", "organisation", "team_id") if after[k])
        return _("created: {fields}", fields=fields)
    if entry.action == "delete":
        fields = ", ".join(f"{k} {before[k]!r}" for k in ("role", "organisation", "team_id") if before[k])
        return _("removed; last state: {fields}", fields=fields)
    changed = [k for k in after if k != "name" and before.get(k) != after.get(k)]
    return "\n".join(
        _("new password") if k == PASSWORD_SET else f"{k}: {before.get(k)!r} -> {after[k]!r}" for k in changed
    )
