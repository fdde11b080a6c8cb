"""Fetching submissions from an ODK Central server (pyodk), into the same store as ODK Collect's.

Central's API (docs.getodk.org/central-api): ``POST /v1/sessions`` gives a token; the OData
table ``/v1/projects/{p}/forms/{f}.svc/Submissions`` lists submissions by ``__id`` (the instance
id); ``/submissions/{id}.xml`` is the submission as the device sent it, and ``/attachments`` its
photos. A submission is fetched once: one already in the store, or whose records are in the
register (imported from an export: ``source_key`` ``odk:`` and the instance id), is skipped, so
pulling again fetches only what is new. What is fetched waits for a supervisor's approval, as
a submission from ODK Collect does, unless ``approve`` is given.
"""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sapper.field.openrosa import read_instance
from sapper.model.accounts import User
from sapper.model.errors import SapperError
from sapper.store.register import Register
from sapper.store.schema import layer
from sapper.store.submissions import APPLIED, APPROVED, Attachment, Submissions

FIELD_LAYERS = ("reports", "items", "hazards")  # where records made from submissions go
ID_CHUNK = 500


@dataclass
class PullResult:
    listed: int = 0
    fetched: int = 0
    already: int = 0
    applied: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (instance id, reason)
    attachments: int = 0


@dataclass(frozen=True)
class Central:
    """Where and as whom: the server, its project and form, and a Central account."""

    url: str
    project: int
    form_id: str
    username: str
    password: str


def _client(central: Central, cache_dir: Path) -> Any:
    from pyodk._utils.config import CentralConfig, Config  # loaded only when a server is asked
    from pyodk.client import Client

    config = Config(central=CentralConfig(central.url, central.username, central.password, central.project))
    return Client(config=config, cache_path=cache_dir / "pyodk_cache.toml", project_id=central.project).open()


def _get(client: Any, central: Central, path: str, **parts: str) -> Any:
    url = client.session.urlformat(
        "projects/{project}/forms/{form}/submissions/" + path, project=central.project, form=central.form_id, **parts
    )
    response = client.session.get(url)
    if not response.ok:
        raise SapperError(f"ODK Central at {central.url} answered {response.status_code} to GET {url}")
    return response


def _held(reg: Register, ids: list[str]) -> set[str]:
    """Instance ids whose records are in the register already (imported from an export)."""
    held: set[str] = set()
    for name in FIELD_LAYERS:
        for start in range(0, len(ids), ID_CHUNK):
            keys = [f"odk:{i}" for i in ids[start : start + ID_CHUNK]]
            held.update(k.removeprefix("odk:") for k in reg.backend.ids_by_source_key(layer(name), keys))
    return held


def _attachments(client: Any, central: Central, instance_id: str) -> list[Attachment]:
    out = []
    for entry in _get(client, central, "{iid}/attachments", iid=instance_id).json():
        if not entry.get("exists", True):
            continue  # Central lists photos the device has not sent yet: the next pull brings them
        name = str(entry["name"])
        response = _get(client, central, "{iid}/attachments/{name}", iid=instance_id, name=name)
        kind = response.headers.get("Content-Type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        out.append(Attachment(name, kind.split(";")[0], response.content))
    return out


def pull(
    reg: Register,
    central: Central,
    sender: User,
    approve: Callable[[Any], Any] | None = None,
) -> PullResult:
    """Fetch the submissions not yet held; ``approve`` (given a stored submission) writes them."""
    result = PullResult()
    store = Submissions(reg.backend).ensure()
    with tempfile.TemporaryDirectory(prefix="sapper-pyodk-") as cache:
        try:
            client = _client(central, Path(cache))
            try:
                table = client.submissions.get_table(form_id=central.form_id, select="__id")
            except Exception as exc:  # pyodk raises its own errors (and requests' for a refused connection)
                raise SapperError(f"ODK Central at {central.url}: {exc}") from None
            ids = [str(row["__id"]) for row in table.get("value", [])]
            result.listed = len(ids)
            new = [i for i in ids if store.by_instance(i) is None]
            held = _held(reg, new)
            result.already = len(ids) - len(new) + len(held)
            for instance_id in (i for i in new if i not in held):
                xml = _get(client, central, "{iid}.xml", iid=instance_id).content
                instance = read_instance(xml)
                files = _attachments(client, central, instance_id)
                sub, _ = store.receive(
                    instance_id, instance.form_id, instance.version, sender.name, sender.organisation, xml, files
                )
                result.fetched += 1
                result.attachments += len(files)
                if approve is not None:
                    sub = approve(sub)
                    if sub.status in (APPLIED, APPROVED):
                        result.applied += 1
                    else:
                        result.rejected.append((instance_id, sub.reason or sub.status))
        except SapperError:
            raise
        except Exception as exc:  # pyodk's and requests' errors: a clear line, not a trace
            raise SapperError(f"ODK Central at {central.url}: {exc}") from None
    return result
