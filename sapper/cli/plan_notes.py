"""`sapper plan`'s notes after the summary: survey outcomes, idle team-days, rules the reports
contradict, and the tail of the plan, each in the words an officer uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from sapper.cli.render import compact_table, room_for, shorten
from sapper.i18n import N_, _, translate
from sapper.plan.notes.idle import idle_days
from sapper.plan.notes.pace_words import pace_words
from sapper.plan.notes.tail import tail_words

if TYPE_CHECKING:
    from sapper.plan.build import PlanResult

MIN_REASON = 20


def work_kinds_line(result: PlanResult) -> Text:
    """Survey, search and EOD work: how many tasks and team-days of each the plan holds."""
    days: dict[str, float] = {}
    count: dict[str, int] = {}
    for s, slot in result.schedule.slots.items():
        task = result.problem.sectors[s].task
        days[task] = days.get(task, 0.0) + (slot.end - slot.start) / 48.0
        count[task] = count.get(task, 0) + 1
    words = {"survey": N_("survey"), "clearance": N_("clearance"), "eod": N_("EOD")}
    parts = [
        _(
            "{work} {n} tasks, {days} team-days",
            work=translate(words.get(k, k)),
            n=format(count[k], ","),
            days=format(days[k], ",.0f"),
        )
        for k in sorted(count)
    ]
    text = _("work: {parts}", parts="; ".join(parts))
    if result.problem.survey is not None and any(s.task == "survey" for s in result.problem.sectors):
        text += "\n" + result.problem.survey.explain()
    return Text("\n" + text)


def idle_table(result: PlanResult, width: int = 80) -> Table:
    rows = [
        [result.problem.teams[i.team].name, f"{i.days:,.0f}", i.reason]
        for i in idle_days(result.problem, result.schedule)
    ]
    rows += [[_("team {id}", id=tid), _("all"), translate(why)] for tid, why in sorted(result.idle_teams.items())]
    table = compact_table(_("Idle team-days within the plan, and why"))
    headers = [_("team"), _("idle days"), _("reason")]
    for i, name in enumerate(headers):
        table.add_column(name, justify="right" if i == 1 else "left", no_wrap=i != 2)
    room = max(MIN_REASON, room_for(width, headers, rows, 2))
    for team, days, reason in rows or [["-", "0", _("no team idle")]]:
        table.add_row(shorten(team, 24), days, reason if len(reason) <= room * 3 else reason[: room * 3 - 1] + "…")
    return table


def mismatch_lines(result: PlanResult) -> Text | None:
    if not result.mismatches:
        return None
    accepted = result.settings.accept_recorded_practice
    head = _("the rules or the records are wrong: the reports show methods the rules forbid") + (
        _(" (recorded practice accepted for this land):") if accepted else ":"
    )
    lines = [head, *(f"  {m.explain()}" for m in result.mismatches)]
    if not accepted:
        lines.append("  " + _("planned by the rules; --accept-recorded-practice plans these methods there too"))
    return Text("\n" + "\n".join(lines))


def tail_lines(result: PlanResult) -> Text | None:
    names = {h: hz.name for h, hz in result.hazards.items()}
    lines = tail_words(result.problem, result.schedule, result.calendar, names)
    return Text("\n" + "\n".join(lines)) if lines else None


def pace_lines(result: PlanResult) -> Text | None:
    lines = pace_words(result, result.reported) if result.reported is not None else []
    return Text("\n" + "\n".join(lines)) if lines else None


def plan_notes(result: PlanResult, width: int = 80) -> list[Table | Text]:
    notes: list[Table | Text | None] = [
        work_kinds_line(result),
        pace_lines(result),
        idle_table(result, width),
        mismatch_lines(result),
        tail_lines(result),
    ]
    return [n for n in notes if n is not None]
