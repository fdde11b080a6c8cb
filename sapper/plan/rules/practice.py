"""The rules or the records are wrong: methods the daily reports show in use where the rules forbid them.

The method rules (data/methods.toml) say which search methods may work a hazard's terrain
and contamination; the register's reports say which teams really worked it. Where they
disagree the plan says so, hazard by hazard, instead of silently planning otherwise; the
officer may accept the recorded practice for that land (``accepted``): the method is then
allowed there, except where a protected site's buffer forbids it (never overridden).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sapper.i18n import _, translate
from sapper.model.enums import ActivityType, Method, TeamKind
from sapper.model.records import Hazard, Report, Team
from sapper.plan.rules.methods import Decision, Rules, decide, team_methods
from sapper.plan.rules.productivity import SEARCH_METHODS


@dataclass(frozen=True)
class Mismatch:
    hazard_id: int
    hazard: str
    method: Method
    team_kind: TeamKind
    reports: int  # daily reports that show it
    rule: str  # why the rules forbid it

    def explain(self) -> str:
        return _(
            "H{id} {hazard}: {reports} reports of {team_kind} teams working by {method}, "
            "which the rules forbid ({rule})",
            id=self.hazard_id,
            hazard=self.hazard,
            reports=self.reports,
            team_kind=self.team_kind.value,
            method=self.method.value,
            rule=rule_in_words(self.rule),
        )


def rule_in_words(rule: str) -> str:
    """A rule as ``Decision`` words it ("mixed: <reason>"), its reason in the reader's language; codes stay codes."""
    code, colon, reason = rule.partition(": ")
    return f"{code}: {translate(reason)}" if colon else translate(rule)


def reported_method(team: Team, activity: ActivityType, rules: Rules) -> Method | None:
    """The search method a report's team used: a manual team on BAC searches by BAC."""
    methods = [m for m in team_methods(team, rules) if m in SEARCH_METHODS]
    if activity == ActivityType.BAC and Method.BAC in methods:
        return Method.BAC
    for method in (Method.ROBOT, Method.MECHANICAL, Method.DOG, Method.MANUAL, Method.BAC):
        if method in methods:
            return method
    return None


def find_mismatches(
    hazards: Sequence[Hazard], reports: Sequence[Report], teams: Sequence[Team], rules: Rules
) -> list[Mismatch]:
    """Every (hazard, method) the reports show in use where the terrain or contamination rules forbid it."""
    by_id = {h.id: h for h in hazards}
    team_of = {t.id: t for t in teams}
    seen: Counter[tuple[int, Method, TeamKind]] = Counter()
    for r in reports:
        hazard, team = by_id.get(r.hazard_id), team_of.get(r.team_id)
        if hazard is None or team is None or r.activity_type in (ActivityType.NTS, ActivityType.TS):
            continue
        method = reported_method(team, r.activity_type, rules)
        if method is not None:
            seen[int(hazard.id), method, team.kind] += 1  # type: ignore[arg-type]
    out = []
    for (hid, method, kind), n in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        hazard = by_id[hid]
        decision = decide(hazard, hazard.geometry, (), rules)  # terrain and contamination only
        if method in decision.allowed:
            continue
        terrain = rules.terrain_for(hazard.land_use)
        rule = decision.forbidden.get(method) or (
            f"{hazard.land_use.value}: {', '.join(m.value for m in terrain.methods)} only"
        )
        out.append(Mismatch(hid, hazard.name, method, kind, n, rule))
    return out


def accepted(decision: Decision, methods: set[Method], without_sites: Decision) -> Decision:
    """``decision`` with the recorded ``methods`` allowed (last in preference), except those a
    protected site forbids (``without_sites``: the same decision with no site, to tell them apart)."""
    extra = [
        m
        for m in sorted(methods, key=lambda m: m.value)
        if m not in decision.allowed and decision.forbidden.get(m) == without_sites.forbidden.get(m)
    ]
    if not extra:
        return decision
    forbidden = {m: why for m, why in decision.forbidden.items() if m not in extra}
    reasons = (*decision.reasons, f"recorded practice accepted: {', '.join(m.value for m in extra)}")
    return Decision((*decision.allowed, *extra), forbidden, decision.disposal, decision.activity, reasons)
