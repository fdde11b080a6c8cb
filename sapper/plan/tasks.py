"""From a hazard's sectors to its work, in order: survey, search, EOD (the order greedy plans follow).

- suspected land (``survey.suspected.needs_survey``), if a team can survey: NTS, then TS by block,
  then the search of the land expected to be left (survey/suspected.py);
- confirmed land that technical survey may reduce (``survey.confirmed.survey_confirmed``), if
  a team can survey: TS by block, then the search of the land expected to be left;
- an ammunition depot, if EOD teams exist: bulk removal tasks instead of a search (eod.py);
- otherwise, if EOD teams exist: after each block's search, its EOD disposal task.
Pairs (before, after) tie them; indices are given once every hazard's work is listed.
"""

from __future__ import annotations

from sapper.model.enums import Method
from sapper.model.records import Hazard
from sapper.plan.eod import EOD_METHODS, disposal_tasks, is_depot, make_depot_task
from sapper.plan.problem import WorkSector
from sapper.plan.survey.confirmed import survey_confirmed
from sapper.plan.survey.outlook import Outlook
from sapper.plan.survey.suspected import SurveyData, confirmed_survey_tasks, needs_survey, survey_tasks


def hazard_work(
    hazard: Hazard,
    sectors: list[WorkSector],
    outlook: Outlook,
    data: SurveyData,
    team_can: set[Method],
    nts_done: bool = False,
) -> tuple[list[WorkSector], list[tuple[WorkSector, WorkSector]]]:
    """The hazard's tasks in the order they are done, and the pairs that must keep it
    (``nts_done``: its non-technical survey is reported, technical survey comes next)."""
    eod = any(m in team_can for m in EOD_METHODS)
    items = sum(sum(s.items.values()) for s in sectors)
    if eod and is_depot(hazard.contamination, items, sum(s.area_m2 for s in sectors)):
        for s in sectors:
            make_depot_task(s, data)
        return sectors, []
    first: list[WorkSector] = []
    pairs: list[tuple[WorkSector, WorkSector]] = []
    if needs_survey(hazard) and Method.SURVEY in team_can:
        first, pairs = survey_tasks(hazard, sectors, outlook, data, nts_done)
    elif Method.SURVEY in team_can and survey_confirmed(hazard, sum(s.area_m2 for s in sectors), outlook.confirmed):
        first, pairs = confirmed_survey_tasks(sectors, outlook.confirmed, data)  # type: ignore[arg-type]
    last: list[WorkSector] = []
    if eod:
        last, more = disposal_tasks(sectors, data)
        pairs += more
    return [*first, *sectors, *last], pairs


def number(work: list[WorkSector], pairs: list[tuple[WorkSector, WorkSector]]) -> list[tuple[int, int]]:
    """Give every task its index (its place in ``work``) and the pairs as indices."""
    for i, s in enumerate(work):
        s.index = i
    return [(a.index, b.index) for a, b in pairs]
