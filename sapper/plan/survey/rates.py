"""Survey rates learned from the survey teams' own reports: hectares of NTS and TS per team-day.

The cited figures (rules/data/survey.toml) are the prior and the survey teams' daily reports of
non-technical and technical survey the evidence, weighed by forecasting/learning.py's update (the
same lognormal rate, conjugate normal update and discounting of older days as the
search rates). A survey day's rate is the land it covered: an NTS report's area is the
land looked over (the whole hazard, when the survey finds evidence and releases
nothing), a TS report's the land gone through. Terrain is pooled: a survey team's pace
is set by walking the edges, interviewing and sampling, not by the ground (ASSUMPTION).

EOD rates are not learned: a report of EOD work gives neither an area nor the items it
disposed of, so the cited figures stand (survey.toml [eod]).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sapper.i18n import _
from sapper.model.enums import ActivityType, LandUse, Method, TeamKind
from sapper.model.records import Report, Team
from sapper.plan.forecasting.learning import Z90, LearnedRate, TeamDay, learn_rates
from sapper.plan.rules.datafiles import Triangular
from sapper.plan.rules.methods import Rules, team_methods
from sapper.plan.rules.productivity import Productivity, SearchRate
from sapper.plan.survey.suspected import SurveyData

POOLED = LandUse.OTHER  # survey rates are pooled over terrain (see above)
UNIT = "m2_per_team_day"


def _in_m2(tri: Triangular) -> Triangular:
    return Triangular(tri.low * 10_000.0, tri.mode * 10_000.0, tri.high * 10_000.0)


def survey_team_days(
    reports: Sequence[Report], teams: Sequence[Team], rules: Rules, activity: ActivityType, half_life_days: float
) -> list[TeamDay]:
    """The survey teams' reports of one activity as team-days (a team's reports of one day summed).

    Report geometries must be in metres; a report without one counts by its ``area_m2``.
    """
    surveyors = {int(t.id): t for t in teams if t.id is not None and Method.SURVEY in team_methods(t, rules)}
    area: dict[tuple[int, date], float] = defaultdict(float)
    for r in reports:
        if r.activity_type != activity or r.team_id not in surveyors:
            continue
        size = float(r.geometry.area) if r.geometry is not None and not r.geometry.is_empty else r.area_m2
        if size > 0:
            area[int(r.team_id), r.report_date] += size  # type: ignore[arg-type]
    if not area:
        return []
    newest = max(r.report_date for r in reports)  # a survey day long before the last report counts less
    return [
        TeamDay(
            team,
            (TeamKind.SURVEY, Method.SURVEY, POOLED),
            day,
            m2,
            math.log(m2),
            0.5 ** ((newest - day).days / half_life_days),
        )
        for (team, day), m2 in sorted(area.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def _learn_one(days: list[TeamDay], prior: Triangular, source: str, prod: Productivity) -> LearnedRate | None:
    if not days:
        return None
    cited = dataclasses.replace(prod, search={Method.SURVEY: SearchRate(UNIT, _in_m2(prior), source)}, terrain={})
    learned = learn_rates(days, cited, prod.learning)
    return learned.rates.get((TeamKind.SURVEY, Method.SURVEY, POOLED))


def learn_survey_rates(
    reports: Sequence[Report], teams: Sequence[Team], rules: Rules, data: SurveyData, prod: Productivity
) -> SurveyData:
    """``data`` with the survey team's NTS and TS rates learned from the reports (reports in metres)."""
    half_life = prod.learning.half_life_days
    nts = _learn_one(survey_team_days(reports, teams, rules, ActivityType.NTS, half_life), data.nts, "NTS", prod)
    ts = _learn_one(
        survey_team_days(reports, teams, rules, ActivityType.TS, half_life), data.ts[Method.SURVEY], "TS", prod
    )
    return dataclasses.replace(data, nts_learned=nts, ts_learned=ts)


def _ha(x: float) -> str:
    return f"{x / 10_000.0:.1f}"


def explain_rate(name: str, prior: Triangular, learned: LearnedRate | None) -> str:
    """One survey rate in words: the cited prior, the reports, the rate used."""
    prior_words = f"{prior.mode:g} ({prior.low:g}-{prior.high:g})"
    if learned is None:
        used = format(prior.mode, "g")
        return _("{name} prior {prior}, no reports, used {used}", name=name, prior=prior_words, used=used)
    band = f"{_ha(learned.mean)} ({_ha(learned.level(-Z90))}-{_ha(learned.level(Z90))})"
    return _(
        "{name} prior {prior}, reports {observed} over {days} days, used {used}",
        name=name,
        prior=prior_words,
        observed=_ha(learned.observed),
        days=learned.days,
        used=band,
    )


def explain_rates(data: SurveyData) -> str:
    """The survey team's rates, ha per team-day, for the plan's notes."""
    parts = [
        explain_rate("NTS", data.nts, data.nts_learned),
        explain_rate("TS", data.ts[Method.SURVEY], data.ts_learned),
    ]
    return _("survey team ha/day: {rates}", rates="; ".join(parts))
