"""Request bodies of the REST API, checked by pydantic before any work is done.

Numbers are bounded to what both databases store and text may not hold NUL characters
(PostgreSQL refuses them), so a bad body is a 400 naming the field, never a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sapper.model.accounts import Role
from sapper.model.enums import ActivityType, ReleaseRoute


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("text may not contain NUL characters")
    return text


Text = Annotated[str, AfterValidator(_no_nul), Field(max_length=10_000)]
Name = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=64)]
Secret = Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=1024)]
RecordId = Annotated[int, Field(ge=1, le=2**62)]
Geometry = dict[str, Any]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    username: Name
    password: Secret


class UserOut(BaseModel):
    name: str
    role: Role
    organisation: str
    team_id: int | None
    active: bool


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_in_days: float
    user: UserOut


class NewUser(Strict):
    name: Name
    password: Secret
    role: Role = Role.VIEWER
    organisation: Annotated[str, AfterValidator(_no_nul), Field(max_length=200)] | None = Field(
        None, description="Default: the organisation of the admin who creates the account"
    )
    team_id: RecordId | None = None


class UserChange(Strict):
    role: Role | None = None
    organisation: Annotated[str, AfterValidator(_no_nul), Field(max_length=200)] | None = None
    team_id: RecordId | None = None
    active: bool | None = None
    password: Secret | None = None


class DailyReport(Strict):
    """A team leader's report of one day's work (IMSMA progress report)."""

    report_date: date
    activity_type: ActivityType
    hazard_id: RecordId | None = None
    team_id: RecordId | None = None
    activity_id: RecordId | None = None
    geometry: Geometry | None = Field(None, description="GeoJSON Polygon or MultiPolygon of the area worked (lon/lat)")
    items_found: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    notes: Text = ""
    restricted: bool = False
    source_key: Annotated[str, AfterValidator(_no_nul), Field(min_length=1, max_length=200)] | None = Field(
        None, description="The sender's own key for this report (a UUID): sending it again adds nothing"
    )


class ReleaseAction(Strict):
    """Approval of land release (IMAS 07.11); without geometry, all that is left of the hazard."""

    route: ReleaseRoute | None = None
    geometry: Geometry | None = None
    on: date | None = None
    team_id: RecordId | None = None
    report_id: RecordId | None = None
    depth_cm: Annotated[int, Field(ge=0, le=100_000)] | None = None
    notes: Text = ""
    # The supervisor confirms the release although items on the land are still `found` (409 without).
    force: bool = False
