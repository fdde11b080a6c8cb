"""ETags from record versions, and the If-Match check that prevents lost updates.

A record's ETag names its layer, id and version, so it changes on every write. A client
that sends ``If-Match`` with the ETag it read is refused (412) if the record changed since;
one that sends the ``version`` it read in the body is refused with 409. A replace or update
that sends neither is refused with 428: an edit must say which version it is based on.
"""

from __future__ import annotations

from sapper.i18n import N_
from sapper.server.errors import ApiError
from sapper.store.schema import Layer


def etag(lay: Layer, record_id: int, version: int) -> str:
    return f'"{lay.name}-{record_id}-v{version}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def if_match_version(header: str | None, lay: Layer, record_id: int, current: int) -> int | None:
    """The version an If-Match header holds the client to; None without the header.

    ``*`` means "whatever it is now". An ETag of another record, or of an older version,
    fails with 412 Precondition Failed.
    """
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return current
    prefix = f'"{lay.name}-{record_id}-v'
    for tag in tags:
        if tag.startswith(prefix) and tag.endswith('"') and tag[len(prefix) : -1].isdigit():
            version = int(tag[len(prefix) : -1])
            if version == current:
                return version
    raise ApiError(
        412,
        N_(
            "{kind} {id} is at {etag}, not {sent}: it changed since "
            "you read it (or the ETag is of another record); read it again and redo your change"
        ),
        {"ETag": etag(lay, record_id, current)},
        {"kind": lay.kind, "id": record_id, "etag": etag(lay, record_id, current), "sent": header.strip()},
    )


def none_match(header: str | None, tag: str) -> bool:
    """True if an If-None-Match header already holds this ETag (answer 304)."""
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or tag in tags


def require_version(lay: Layer, record_id: int) -> ApiError:
    return ApiError(
        428,
        N_(
            "say which version of {kind} {id} your change is based on: send If-Match with the ETag "
            "you read, or the version property"
        ),
        params={"kind": lay.kind, "id": record_id},
    )
