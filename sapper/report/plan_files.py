"""The files of a plan for the field and for GIS: layers, the schedule, priorities and charts.

Sectors and lanes are read back from the register (the plan as stored, in WGS 84) and
written by the same exporter as every other layer; the schedule and priorities are CSV
with names a person reads; the burn-down and Gantt charts are PNG.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

from sapper.formats.csvfile import write_csv
from sapper.formats.exporter import export_layer
from sapper.plan.build import PlanResult
from sapper.plan.forecasting.forecast import TAIL_AREA
from sapper.plan.problem import TICKS_PER_DAY, WorkSector
from sapper.plan.scheduling.timeline import clock
from sapper.report.charts import (
    FINISH_COLOURS,
    PLAN,
    Bar,
    Burndown,
    Label,
    Series,
    burndown_chart,
    gantt_chart,
)
from sapper.store.register import Register

HA = 10_000.0


def write_plan_files(reg: Register, plan_id: int, result: PlanResult, out: str | Path) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    where = {"plan_id": plan_id}
    export_layer(reg, "plan_sector", out / "sectors.gpkg", where=where)
    export_layer(reg, "plan_lane", out / "sectors.gpkg", where=where, append=True)
    files["sectors.gpkg"] = out / "sectors.gpkg"
    for kind, name in (("plan_sector", "sectors.geojson"), ("plan_lane", "lanes.geojson")):
        export_layer(reg, kind, out / name, where=where)
        files[name] = out / name
    files["schedule.csv"] = write_schedule(result, out / "schedule.csv")
    files["priorities.csv"] = write_priorities(result, out / "priorities.csv")
    files["burndown.png"] = draw_burndown(result, out / "burndown.png")
    files["gantt.png"] = draw_gantt(result, out / "gantt.png")
    return files


def write_schedule(result: PlanResult, path: Path) -> Path:
    problem = result.problem
    header = ["date", "day", "team_id", "team", "sector", "hazard_id", "method", "start", "end", "hours", "work"]
    rows = [
        [
            w.on.isoformat(),
            w.day + 1,
            problem.teams[w.team].team_id,
            problem.teams[w.team].name,
            problem.sectors[w.sector].label,
            problem.sectors[w.sector].hazard_id,
            w.method.value,
            clock(w.start_h),
            clock(w.end_h),
            f"{w.hours:.2f}",
            work_name(problem.sectors[w.sector]),
        ]
        for w in result.work
    ]
    write_csv(path, header, rows)
    return path


def work_name(sector: WorkSector) -> str:
    """What the team does: survey (NTS or TS), clearance, or EOD (disposal or depot removal)."""
    if sector.task == "survey":
        return f"survey ({sector.decision.activity.value})"
    if sector.task == "eod":
        return "eod (depot removal)" if sector.label.endswith("-depot") else "eod (disposal)"
    return "clearance"


def write_priorities(result: PlanResult, path: Path) -> Path:
    header = ["rank", "hazard_id", "hazard", "score", "stake", "danger", "blockage", "officer"]
    header += ["finish_p50", "finish_p80", "finish_p95", "explanation"]
    rows = []
    for hid, pr in sorted(result.priorities.items(), key=lambda kv: kv[1].rank):
        levels = result.forecast.hazard_finish.get(hid, {})
        finish = [result.calendar.finish_date(levels[q]).isoformat() if levels else "" for q in (50, 80, 95)]
        parts = [f"{pr.points(n):.1f}" for n in ("stake", "danger", "blockage", "register")]
        rows.append([pr.rank, hid, result.hazards[hid].name, f"{pr.score:.1f}", *parts, *finish, pr.explain()])
    write_csv(path, header, rows)
    return path


def draw_burndown(result: PlanResult, path: Path) -> Path:
    return burndown_chart(path, burndown_data(result))


def burndown_data(result: PlanResult) -> Burndown:
    """The burn-down's values: series at the end of each working day, as the tables date them."""
    fc, cal, last = result.forecast, result.calendar, result.chart_days
    dates = [cal.day_end(int(g)) for g in fc.days[:last]]
    sectors = result.problem.sectors
    total = sum(s.area_m2 for s in sectors) / HA
    begin = tail_start(result)
    work = Series(
        "team-days of work still to do",
        fc.planned_work[:last],
        {q: v[:last] for q, v in fc.work.items()},
        np.where(np.arange(last) >= begin, fc.tail_work[:last], 0.0) if begin is not None else None,
    )
    area = Series(
        "hectares still to clear",
        fc.planned[:last] / HA,
        {q: v[:last] / HA for q, v in fc.remaining.items()},
    )
    title = f"Work still to do: {len(sectors):,} sectors, {total:,.1f} ha; forecast from {fc.runs:,} runs"
    tail_from, label = tail_note(result)
    return Burndown(dates, work, area, result.finish_dates, title, label, tail_from)


def tail_start(result: PlanResult) -> int | None:
    """The day index at which the median run has TAIL_AREA of the area done, if hazards are open then."""
    fc = result.forecast
    if not fc.tail_hazards or 50 not in fc.remaining:
        return None
    if fc.tail_day is not None:
        return fc.tail_day
    median = fc.remaining[50]
    done = np.nonzero(median <= float(median[0]) * (1.0 - TAIL_AREA) + 1e-9)[0]
    return int(done[0]) if len(done) else None


def tail_note(result: PlanResult, shown: int = 3) -> tuple[date | None, str]:
    """When the median run has TAIL_AREA of the area done, and which hazards are still open then."""
    fc, cal = result.forecast, result.calendar
    at = tail_start(result)
    if at is None:
        return None, ""
    when = cal.day_end(int(fc.days[at]))
    area: dict[int, float] = defaultdict(float)
    items: dict[int, float] = defaultdict(float)
    for s in result.problem.sectors:
        area[s.hazard_id] += s.area_m2
        items[s.hazard_id] += sum(s.items.values())
    for h, hazard in result.hazards.items():  # a depot's items leave its sectors for a bulk-removal task
        items[h] = max(items[h], float(hazard.estimated_items or 0))
    left = float(fc.remaining[50][at]) / HA
    work = float(fc.work[50][at])
    lines = [
        f"{TAIL_AREA:.0%} of the area done by {when} (median run);",
        f"the last {left:,.1f} ha still hold {work:,.0f} team-days of work:",
    ]
    for h in fc.tail_hazards[:shown]:
        finish = cal.finish_date(fc.hazard_finish[h][50])
        name = result.hazards[h].name if h in result.hazards else f"hazard {h}"
        lines.append(f"  {name[:32]} (H{h}, {area[h] / HA:,.1f} ha, ~{items[h]:,.0f} items): P50 finish {finish}")
    if len(fc.tail_hazards) > shown:
        lines.append(f"  and {len(fc.tail_hazards) - shown} more hazards")
    return when, "\n".join(lines)


def draw_gantt(result: PlanResult, path: Path) -> Path:
    problem, cal = result.problem, result.calendar
    rows = [f"{t.name} ({t.kind.value})" for t in problem.teams]
    bars = [
        Bar(
            slot.team,
            cal.date_of(slot.start // TICKS_PER_DAY),
            cal.date_of((slot.end - 1) // TICKS_PER_DAY),
            problem.sectors[s].score,
        )
        for s, slot in result.schedule.slots.items()
    ]
    marks = [("plan finish", cal.finish_date(result.schedule.makespan_days), PLAN)]
    marks += [(f"P{q} finish", day, FINISH_COLOURS[q]) for q, day in result.finish_dates.items() if q in (50, 95)]
    title = f"Teams and their sectors ({len(bars):,} sectors, {result.schedule.solver} plan)"
    labels = work_labels(result) + last_hazard_labels(result)
    return gantt_chart(path, rows, bars, title, marks=marks, labels=labels)


WORK_LABELS = {"survey": "survey", "eod": "EOD", "clearance": "clearance"}


def work_labels(result: PlanResult, shortest: float = 0.08) -> list[Label]:
    """The kind of work (survey, clearance, EOD) on each stretch a team does it without a break
    that lasts at least ``shortest`` of the plan: survey and clearance show apart."""
    cal, schedule, sectors = result.calendar, result.schedule, result.problem.sectors
    least = shortest * schedule.makespan_days * TICKS_PER_DAY
    if not any(s.task != "clearance" for s in sectors):
        return []
    labels = []
    for team, run in sorted(schedule.by_team().items()):
        stretch: list = []  # kind, start tick, end tick
        said: set[str] = set()
        for slot in [*run, None]:
            kind = sectors[slot.sector].task if slot is not None else None
            if stretch and kind == stretch[0]:
                stretch[2] = slot.end  # type: ignore[union-attr]
                continue
            if stretch and stretch[2] - stretch[1] >= least and stretch[0] not in said:
                said.add(stretch[0])  # once per team and kind: the chart stays readable
                first, last = stretch[1] // TICKS_PER_DAY, (stretch[2] - 1) // TICKS_PER_DAY
                labels.append(Label(team, cal.date_of(first), cal.date_of(last), WORK_LABELS.get(stretch[0], "")))
            stretch = [kind, slot.start, slot.end] if slot is not None else []
    return labels


def last_hazard_labels(result: PlanResult, shortest: float = 0.05) -> list[Label]:
    """The name of the hazard that finishes last, on each stretch a team works in it without a
    break that lasts at least ``shortest`` of the plan (shorter ones would only crowd the chart)."""
    if not result.forecast.tail_hazards:
        return []
    hid, cal, schedule = result.forecast.tail_hazards[0], result.calendar, result.schedule
    name = result.hazards[hid].name if hid in result.hazards else f"hazard {hid}"
    least = shortest * schedule.makespan_days * TICKS_PER_DAY
    labels = []
    for team, run in sorted(schedule.by_team().items()):
        stretch: list[int] = []  # start and end ticks of the current stretch in the hazard
        for slot in [*run, None]:
            inside = slot is not None and result.problem.sectors[slot.sector].hazard_id == hid
            if inside and stretch:
                stretch[1] = slot.end
            elif inside:
                stretch = [slot.start, slot.end]
            elif stretch:
                if stretch[1] - stretch[0] >= least:
                    first, last = stretch[0] // TICKS_PER_DAY, (stretch[1] - 1) // TICKS_PER_DAY
                    labels.append(Label(team, cal.date_of(first), cal.date_of(last), name))
                stretch = []
    return labels
