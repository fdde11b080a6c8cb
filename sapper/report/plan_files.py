"""The files of a plan for the field and for GIS: layers, the schedule, priorities and charts.

Sectors and lanes are read back from the register (the plan as stored, in WGS 84) and
written by the same exporter as every other layer; the schedule and priorities are CSV
with names a person reads; the burn-down and Gantt charts are PNG.
"""

from __future__ import annotations

from pathlib import Path

from sapper.formats.csvfile import write_csv
from sapper.formats.exporter import export_layer
from sapper.plan.build import PlanResult
from sapper.plan.problem import TICKS_PER_DAY
from sapper.plan.timeline import clock
from sapper.report.charts import Bar, burndown_chart, gantt_chart
from sapper.store.register import Register


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
    header = ["date", "day", "team_id", "team", "sector", "hazard_id", "method", "start", "end", "hours"]
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
        ]
        for w in result.work
    ]
    write_csv(path, header, rows)
    return path


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
    fc, cal = result.forecast, result.calendar
    # show up to a little past the P95 finish: the slowest runs' long tails say nothing more
    last = min(len(fc.days), int(max(fc.finish[95], result.schedule.makespan_days) * 1.08) + 2)
    dates = [cal.date_of(int(d)) for d in fc.days[:last]]
    bands = {q: v[:last] / 10_000.0 for q, v in fc.remaining.items()}
    total = sum(s.area_m2 for s in result.problem.sectors) / 10_000.0
    title = f"Area still to clear: {total:,.1f} ha planned, {fc.runs:,} forecast runs"
    return burndown_chart(path, dates, fc.planned[:last] / 10_000.0, bands, result.finish_dates, title)


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
    marks = {f"P{q}": day for q, day in result.finish_dates.items() if q in (50, 95)}
    title = f"Teams and their sectors ({len(bars):,} sectors, {result.schedule.solver} plan)"
    return gantt_chart(path, rows, bars, title, marks=marks)
