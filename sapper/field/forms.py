"""The forms a field team fills in, one function each, built from the register's vocabularies.

Choice lists of categories, states, activity types, contamination and land use are the enums of
``sapper.model.enums``, so a form offers exactly the values the register accepts. Hazards, tasks
and QC samples come from the register as attached CSV files (``hazards.csv``, ``tasks.csv``,
``qc_samples.csv``, see ``sapper.field.media``), chosen with ``select_one_from_file``, so a form
need not change when a team is given new work.
"""

from __future__ import annotations

from sapper.field.xlsform import XLSForm, plain_choices, row, vocabulary_choices
from sapper.model.enums import ActivityType, Contamination, ItemCategory, ItemState, LandUse
from sapper.model.qc import QcResult

HAZARDS_CSV = "hazards.csv"
TASKS_CSV = "tasks.csv"
QC_SAMPLES_CSV = "qc_samples.csv"
MEDIA = (HAZARDS_CSV, TASKS_CSV)
ATTACHED_LISTS = (*MEDIA, QC_SAMPLES_CSV)  # every list a form may attach
PHOTO_SIZE = "max-pixels=2048"  # assumption: enough to identify an item, small enough to send over a weak link
NOT_NEGATIVE = {"constraint": ". >= 0", "constraint_message": "must be 0 or more"}


def _meta() -> list[dict[str, str]]:
    return [row("start", "start"), row("end", "end"), row("today", "today")]


def _hazard(required: bool) -> dict[str, str]:
    extra = {"required": "yes"} if required else {"hint": "leave empty for an area not in the register yet"}
    return row(f"select_one_from_file {HAZARDS_CSV}", "hazard", "Hazard area", appearance="autocomplete", **extra)


def _task() -> dict[str, str]:
    return row(
        f"select_one_from_file {TASKS_CSV}",
        "task",
        "Task",
        hint="the task of your team on this hazard, if any",
        choice_filter="hazard=${hazard}",
    )


def daily_report() -> XLSForm:
    """The day's work: area worked (traced polygon or walked track), items found, hours."""
    survey = [
        *_meta(),
        _hazard(required=True),
        _task(),
        row("select_one activity_type", "activity_type", "Activity", required="yes"),
        row("date", "report_date", "Date of the work", required="yes", default="today()"),
        row("select_one area_kind", "area_kind", "How is the area given?", required="yes", default="shape"),
        row("geoshape", "area", "Area worked (trace its boundary)", required="yes", relevant="${area_kind}='shape'"),
        row("geotrace", "track", "Track walked", required="yes", relevant="${area_kind}='track'"),
        row("integer", "items_found", "Items found", required="yes", default="0", **NOT_NEGATIVE),
        row(
            "decimal",
            "hours",
            "Hours worked",
            required="yes",
            constraint=". >= 0 and . <= 24",
            constraint_message="between 0 and 24",
        ),
        row("text", "notes", "Notes", appearance="multiline"),
    ]
    choices = [
        *vocabulary_choices("activity_type", ActivityType),
        *plain_choices("area_kind", ("shape", "Traced polygon"), ("track", "Walked track")),
    ]
    return XLSForm("sapper_daily_report", "Daily progress report", survey, choices, MEDIA)


def item_found() -> XLSForm:
    """One explosive item: position, category, photo, depth, condition, state (GICHD minimum data)."""
    survey = [
        *_meta(),
        _hazard(required=False),
        row("geopoint", "position", "Position of the item", required="yes"),
        row("select_one item_category", "category", "Category", required="yes"),
        row("text", "model", "Model", hint="e.g. PMN-2, M107 projectile"),
        row("image", "photo", "Photo", parameters=PHOTO_SIZE),
        row("decimal", "depth_cm", "Depth (cm)", **NOT_NEGATIVE),
        row("text", "condition", "Condition", hint="e.g. intact, corroded, fuzed, damaged"),
        row("select_one item_state", "state", "State", required="yes", default="found"),
        row("date", "found_on", "Found on", required="yes", default="today()"),
        row("text", "notes", "Notes", appearance="multiline"),
    ]
    choices = [*vocabulary_choices("item_category", ItemCategory), *vocabulary_choices("item_state", ItemState)]
    return XLSForm("sapper_item_found", "Explosive item found", survey, choices, (HAZARDS_CSV,))


def non_technical_survey() -> XLSForm:
    """A non-technical survey: evidence, informants, the area, and the outcome (cancel or confirm)."""
    survey = [
        *_meta(),
        _hazard(required=False),
        row("date", "survey_date", "Date of the survey", required="yes", default="today()"),
        # IMAS 07.11: direct evidence confirms a hazard (CHA), indirect evidence makes it suspected (SHA).
        row("select_one evidence_kind", "evidence_kind", "Evidence of explosive ordnance", required="yes"),
        row("text", "evidence", "What was seen or reported", appearance="multiline"),
        row("begin_repeat", "informant", "Informants"),
        row("text", "informant_name", "Name"),
        row("text", "informant_role", "Who they are", hint="e.g. shepherd, farmer, local council"),
        row("end_repeat", "informant"),
        row("geoshape", "area", "Area surveyed (trace its boundary)", required="yes"),
        row("select_one contamination", "contamination", "Contamination", default="unknown"),
        row("select_one land_use", "land_use", "Land use", default="other"),
        row("select_one outcome", "outcome", "Outcome", required="yes"),
        row("text", "notes", "Notes", appearance="multiline"),
    ]
    choices = [
        *plain_choices(
            "evidence_kind", ("direct", "Direct evidence"), ("indirect", "Indirect evidence"), ("none", "No evidence")
        ),
        *vocabulary_choices("contamination", Contamination),
        *vocabulary_choices("land_use", LandUse),
        *plain_choices("outcome", ("confirm", "Confirm the hazard"), ("cancel", "Cancel the area (no evidence)")),
    ]
    return XLSForm("sapper_nts", "Non-technical survey", survey, choices, (HAZARDS_CSV,))


def eod_task() -> XLSForm:
    """An EOD spot task done: what was found, how it was disposed of, the danger area."""
    survey = [
        *_meta(),
        _hazard(required=False),
        _task(),
        row("date", "done_on", "Date", required="yes", default="today()"),
        row("geopoint", "position", "Position", required="yes"),
        row("select_one item_category", "category", "What was disposed of", required="yes"),
        row("text", "model", "Model"),
        row("integer", "quantity", "How many", required="yes", default="1", constraint=". >= 1"),
        row("select_one disposal", "disposal", "Disposed of by", required="yes"),
        row("integer", "danger_area_m", "Danger area radius (m)", required="yes", **NOT_NEGATIVE),
        row("image", "photo", "Photo", parameters=PHOTO_SIZE),
        row("text", "notes", "Notes", appearance="multiline"),
    ]
    choices = [
        *vocabulary_choices("item_category", ItemCategory),
        *vocabulary_choices("disposal", ItemState, leave_out=(ItemState.FOUND.value,)),
    ]
    return XLSForm("sapper_eod_task", "EOD task done", survey, choices, MEDIA)


def accident() -> XLSForm:
    """An accident or incident (IMAS 10.60: an accident harms someone, an incident does not)."""
    survey = [
        *_meta(),
        row("select_one event_kind", "event_kind", "What happened", required="yes"),
        row("dateTime", "happened_at", "When", required="yes"),
        row("geopoint", "position", "Where", required="yes"),
        _hazard(required=False),
        row("integer", "killed", "People killed", required="yes", default="0", **NOT_NEGATIVE),
        row("integer", "injured", "People injured", required="yes", default="0", **NOT_NEGATIVE),
        row("text", "description", "What happened, in words", required="yes", appearance="multiline"),
        row("image", "photo", "Photo", parameters=PHOTO_SIZE),
    ]
    choices = plain_choices("event_kind", ("accident", "Accident (someone harmed)"), ("incident", "Incident"))
    return XLSForm("sapper_accident", "Accident or incident", survey, choices, (HAZARDS_CSV,))


def qc_inspection() -> XLSForm:
    """A post-clearance inspection of one QC sample (IMAS 09.20): passed, or failed with the reason."""
    survey = [
        *_meta(),
        row(
            f"select_one_from_file {QC_SAMPLES_CSV}",
            "sample",
            "Sample inspected",
            required="yes",
            appearance="autocomplete",
        ),
        row("date", "inspected_on", "Date of the inspection", required="yes", default="today()"),
        row("select_one qc_result", "result", "Result", required="yes"),
        row("integer", "items_found", "Items found in the sample", required="yes", default="0", **NOT_NEGATIVE),
        row("decimal", "depth_cm", "Depth inspected (cm)", **NOT_NEGATIVE),
        row(
            "text",
            "notes",
            "Notes",
            hint="what was found or missed; required when the sample failed (it reopens the land)",
            required="${result}='failed'",
            appearance="multiline",
        ),
        row("image", "photo", "Photo", parameters=PHOTO_SIZE),
    ]
    choices = vocabulary_choices("qc_result", QcResult, leave_out=(QcResult.PENDING.value,))
    return XLSForm("sapper_qc_inspection", "QC inspection", survey, choices, (QC_SAMPLES_CSV,))


def all_forms() -> list[XLSForm]:
    return [daily_report(), item_found(), non_technical_survey(), eod_task(), accident(), qc_inspection()]


def form(form_id: str) -> XLSForm:
    for candidate in all_forms():
        if candidate.form_id == form_id:
            return candidate
    known = ", ".join(f.form_id for f in all_forms())
    raise KeyError(f"unknown form {form_id!r} (known: {known})")
