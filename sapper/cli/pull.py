"""``sapper pull REGISTER --central URL --project N --form ID``: new submissions from ODK Central."""

from __future__ import annotations

import typer
from rich.markup import escape

from sapper.cli.app import app, console, friendly, open_target, state
from sapper.i18n import _
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
            _(
                "give the server (--central), --project and a Central account (SAPPER_CENTRAL_USER and "
                "SAPPER_CENTRAL_PASSWORD, or a pyodk config file with --config)"
            )
        )
    with open_target(register) as reg:
        from sapper.store.accounts import Accounts

        account = Accounts(reg.backend).ensure().find(sender)
        if account is None:
            raise SapperError(
                _("no sapper account {name!r} (--as names who the submissions count as sent by)", name=sender)
            )
        decide = None
        if approve:
            from sapper.server.field_review import approve as approve_one

            approver = User(name=state.user or account.name, role=Role.REGISTER_ADMIN)
            decide = lambda sub: approve_one(reg, sub, approver, account)  # noqa: E731
        result = fetch(reg, Central(url, int(project_id), form_id, user, secret), account, decide)
    waiting = "" if approve else ", " + _("{n} waiting for approval", n=format(result.fetched, ","))
    pulled = _(
        "pulled {form} from {url}: {listed} listed, {already} already held, {new} new ({attachments} attachments)",
        form=form_id,
        url=url,
        listed=format(result.listed, ","),
        already=format(result.already, ","),
        new=format(result.fetched, ","),
        attachments=format(result.attachments, ","),
    )
    console.print(escape(pulled + waiting))
    if approve:
        written = _(
            "{n} written to the register, {rejected} rejected",
            n=format(result.applied, ","),
            rejected=format(len(result.rejected), ","),
        )
        console.print(escape(written))
    for instance_id, reason in result.rejected:
        console.print(f"  [yellow]{escape(instance_id)}[/]: {escape(reason)}", highlight=False)


def _pyodk_settings(path: str) -> dict:
    """The [central] table of a pyodk config file."""
    import tomllib
    from pathlib import Path

    try:
        return dict(tomllib.loads(Path(path).read_text(encoding="utf-8")).get("central", {}))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SapperError(_("pyodk config {path}: {problem}", path=path, problem=exc)) from None
