"""``sapper pull REGISTER --central URL --project N --form ID``: new submissions from ODK Central."""

from __future__ import annotations

import typer
from rich.markup import escape

from sapper.cli.app import app, console, friendly, open_target, state
from sapper.model.accounts import Role, User
from sapper.model.errors import SapperError


@app.command()
@friendly
def pull(
    register: str = typer.Argument(..., help="Register: a .gpkg file or postgresql:// URL."),
    central: str = typer.Option(None, "--central", help="ODK Central server, e.g. https://central.example.org."),
    project: int = typer.Option(None, "--project", help="Central project id (the number in its URLs)."),
    form_id: str = typer.Option(..., "--form", help="Form id (xmlFormId), e.g. sapper_item_found."),
    sender: str = typer.Option(
        ..., "--as", help="The sapper account the submissions count as sent by (a team leader: their team's rules)."
    ),
    username: str = typer.Option(None, envvar="SAPPER_CENTRAL_USER", help="Central account (email)."),
    password: str = typer.Option(None, envvar="SAPPER_CENTRAL_PASSWORD", hidden=True),
    config: str = typer.Option(
        None, envvar="PYODK_CONFIG_FILE", help="pyodk config (TOML: base_url, username, password, default_project_id)."
    ),
    approve: bool = typer.Option(False, "--approve", help="Write them into the register now, not for approval."),
) -> None:
    """Fetch the submissions not fetched before; they wait for a supervisor's approval (or --approve)."""
    from sapper.field.central import Central
    from sapper.field.central import pull as fetch

    settings = _pyodk_settings(config) if config and not (username and password and central) else {}
    url = central or settings.get("base_url")
    project_id = project if project is not None else settings.get("default_project_id")
    user, secret = username or settings.get("username"), password or settings.get("password")
    if not url or project_id is None or not user or not secret:
        raise SapperError(
            "give the server (--central), --project and a Central account (SAPPER_CENTRAL_USER and "
            "SAPPER_CENTRAL_PASSWORD, or a pyodk config file with --config)"
        )
    with open_target(register) as reg:
        from sapper.store.accounts import Accounts

        account = Accounts(reg.backend).ensure().find(sender)
        if account is None:
            raise SapperError(f"no sapper account {sender!r} (--as names who the submissions count as sent by)")
        decide = None
        if approve:
            from sapper.server.field_review import approve as approve_one

            approver = User(name=state.user or account.name, role=Role.REGISTER_ADMIN)
            decide = lambda sub: approve_one(reg, sub, approver, account)  # noqa: E731
        result = fetch(reg, Central(url, int(project_id), form_id, user, secret), account, decide)
    waiting = "" if approve else f", {result.fetched:,} waiting for approval"
    console.print(
        escape(
            f"pulled {form_id} from {url}: {result.listed:,} listed, {result.already:,} already held, "
            f"{result.fetched:,} new ({result.attachments:,} attachments){waiting}"
        )
    )
    if approve:
        console.print(escape(f"{result.applied:,} written to the register, {len(result.rejected):,} rejected"))
    for instance_id, reason in result.rejected:
        console.print(f"  [yellow]{escape(instance_id)}[/]: {escape(reason)}", highlight=False)


def _pyodk_settings(path: str) -> dict:
    """The [central] table of a pyodk config file."""
    import tomllib
    from pathlib import Path

    try:
        return dict(tomllib.loads(Path(path).read_text(encoding="utf-8")).get("central", {}))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SapperError(f"pyodk config {path}: {exc}") from None
