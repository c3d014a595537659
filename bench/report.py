"""From the repeats' records to figures: median, min and max per scale, the exponent b of time ~ scale^b, the
Markdown tables and the on-screen summary."""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tidewater.bench.stages import TOTAL, stage_names

MB = 1024 * 1024
LOADERS = ("meltano", "dlt", "duckdb")
# What the lifecycle takes beyond its steps' own time (stages.run_pipeline), in the order of a run.
ORCHESTRATION = ("tidewater run command", "before the run", "no step running", "after the run")
# The runs on the folder a full run built (incremental.RUNS), in the order they run.
INCREMENTAL_RUNS = ("nothing new", "incremental day", "full refresh")
_COMPARE: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """A goal's bound: the median must be `sign` `value` for the goal to be met."""

    sign: str
    value: float
    unit: str = ""

    def met(self, measured: float) -> bool:
        return _COMPARE[self.sign](measured, self.value)

    def text(self) -> str:
        return f"{self.sign} {self.value:g}{f' {self.unit}' if self.unit else ''}"


# Issue 20's goals, the one place their targets live. The incremental day's share of a fresh full run is a goal at
# the scales named here only (other scales report the ratio without one).
INCREMENTAL_DAY_OVER_FULL_RUN = {1.0: Target("<=", 0.25), 10.0: Target("<=", 0.10)}
NOTHING_NEW_SECONDS = Target("<", 15.0, "s")
MELTANO_OVER_DUCKDB_TOTAL = Target(">=", 0.25)
MELTANO_OVER_DLT_PER_SOURCE = Target(">=", 1.0)
STAGE_EXPONENT = Target("<=", 1.0)


def _rate(rows: float | None, seconds: float | None) -> float | None:
    return rows / seconds if rows and seconds else None


def figures_of(record: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """One repeat's figures, flat ("group | name | metric" -> value), and its problems (wrong or failed loads)."""
    out: dict[str, float] = {}
    problems: list[str] = list(record.get("meltano_mismatches", []))
    sources = list(record["sources"])
    total_rows = sum(record["sources"].values())

    def put(key: str, value: float | None) -> None:
        if value is not None:
            out[key] = value

    for stage, figures in record["stages"].items():
        put(f"stage | {stage} | seconds", figures["seconds"])
        rows = figures["rows"] if stage.startswith("extract+load") else total_rows
        if stage != "postgres start":  # processes no rows
            put(f"stage | {stage} | rows/s", _rate(rows, figures["seconds"]))
        put(f"stage | {stage} | peak RSS MB", figures["peak_rss"] / MB if figures.get("peak_rss") else None)
    for part, seconds in record.get("orchestration", {}).items():
        put(f"orchestration | {part} | seconds", seconds)
    for part, seconds in record["dbt"].items():
        put(f"dbt build | {part} | seconds", seconds)
    for source, rows in record["sources"].items():
        put(f"source rows | {source} | rows", rows)
    put("source rows | total | rows", total_rows)

    # Extract+load per loader: Meltano from the pipeline, the others from their own runs; only correct loads.
    loads: dict[str, dict[str, tuple[float, float, float | None]]] = {"meltano": {}}
    if not record.get("meltano_mismatches"):
        for source in sources:
            stage = record["stages"][f"extract+load {source}"]
            loads["meltano"][source] = (stage["rows"], stage["seconds"], stage["peak_rss"])
    for name, run in record.get("competitors", {}).items():
        loads[name] = {}
        if run.get("error"):
            problems.append(f"{name} failed at scale {record['scale']:g}: {run['error']}")
            continue
        problems.extend(run.get("mismatches", []))
        for source, entry in run["sources"].items():
            if entry["rows"] == record["sources"].get(source):
                loads[name][source] = (entry["rows"], entry["seconds"], entry["peak_rss"])
    for name, per_source in loads.items():
        for source, (rows, seconds, peak) in per_source.items():
            put(f"load | {name} {source} | seconds", seconds)
            put(f"load | {name} {source} | rows/s", _rate(rows, seconds))
            put(f"load | {name} {source} | peak RSS MB", peak / MB if peak else None)
        if len(per_source) == len(sources):
            rows, seconds = sum(v[0] for v in per_source.values()), sum(v[1] for v in per_source.values())
            if name == "meltano":  # the sources load side by side: their seconds overlap; the stage's wall time
                seconds = record["stages"]["extract+load"]["seconds"]
            put(f"load | {name} total | seconds", seconds)
            put(f"load | {name} total | rows/s", _rate(rows, seconds))
    for name in loads:
        if name == "meltano":
            continue
        for source in (*sources, "total"):
            ours, theirs = out.get(f"load | meltano {source} | rows/s"), out.get(f"load | {name} {source} | rows/s")
            if ours and theirs:
                put(f"ratio | Meltano / {name} {source} | x", ours / theirs)
    incremental = record.get("incremental") or {}
    for key, figures in incremental.items():
        put(f"incremental | {key} | seconds", figures["seconds"])
        put(f"incremental | {key} | peak RSS MB", figures["peak_rss"] / MB if figures.get("peak_rss") else None)
    # Per repeat, so that the ratios get medians like every figure: the day against the very run that built its
    # folder (the whole `tidewater run`), and against a full refresh of that folder.
    day = incremental.get("incremental day", {}).get("seconds")
    wholes = {
        "full run": record["stages"][TOTAL]["seconds"],
        "full refresh": incremental.get("full refresh", {}).get("seconds"),
    }
    for name, whole in wholes.items():
        put(f"ratio | incremental day / {name} | x", day / whole if day and whole else None)
    on_duckdb = record["stages"]["dbt build"]["seconds"]
    for engine, figures in (record.get("engines") or {}).items():
        put(f"engine | {engine} lake load | seconds", figures["lake load seconds"])
        put(f"engine | {engine} dbt build | seconds", figures["dbt build seconds"])
        put(f"ratio | {engine} / DuckDB dbt build | x", figures["dbt build seconds"] / on_duckdb)
    return out, problems


def exponent(points: dict[float, float]) -> float | None:
    """b in log(value) = a + b log(scale), least squares over the scales that have a positive value."""
    pairs = [(math.log(scale), math.log(value)) for scale, value in points.items() if value > 0]
    if len(pairs) < 2:
        return None
    mean_x = sum(x for x, _ in pairs) / len(pairs)
    mean_y = sum(y for _, y in pairs) / len(pairs)
    denominator = sum((x - mean_x) ** 2 for x, _ in pairs)
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / denominator if denominator else None


def build(records: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    values: dict[str, dict[float, list[float]]] = {}
    problems: list[str] = []
    for record in records:
        flat, found = figures_of(record)
        problems.extend(found)
        for key, value in flat.items():
            values.setdefault(key, {}).setdefault(record["scale"], []).append(value)
    figures: dict[str, Any] = {}
    for key, per_scale in values.items():
        stats = {
            f"{scale:g}": {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
            for scale, v in sorted(per_scale.items())
        }
        b = exponent({scale: statistics.median(v) for scale, v in per_scale.items()})
        figures[key] = {"per_scale": stats, "exponent": b}
    return {
        "meta": {
            **meta,
            "method": (
                "each repeat is a fresh `tidewater run` in a new data folder (sources generated again, "
                "empty warehouse); each stage's wall time is its Dagster step's start to end, as Dagster recorded "
                "the run (extract+load: the first load step's start to the last one's end; postgres start: the "
                "generate step's start to the generator's first line; pipeline total: the run's start to end); "
                "Meltano's rows are what the reconciliation snapshot counted in each raw schema; "
                "dlt and DuckDB then load the same sources (same PostgreSQL, same files) into their own DuckDB files; "
                "figures are the median over repeats, with min and max; peak RSS is sampled every 0.2 s over the "
                "process tree plus the PostgreSQL server and cut at each stage's start and end; rows/s is loaded "
                "rows per second for extract+load and source rows per second for the other stages; Meltano loads "
                "the sources side by side, so its total is the extract+load stage's wall time (dlt and DuckDB load "
                "them one after the other); then, on the folder the full run built, with --no-docs, a run that finds "
                "nothing new (--days 0), an incremental day (--days 1) and a full refresh, in that order, each "
                "timed as the whole run is; incremental day / full run divides the day by the pipeline total of "
                "the full run of the same repeat; with --target, the same project is then built on each engine "
                "from the lake that run wrote (the lake's copy into it, then its dbt build, each timed on its own), "
                "beside the run's dbt build step on DuckDB; exponent b fits time ~ scale^b over the scales "
                "present; the goals compare the medians with issue 20's targets"
            ),
        },
        "figures": figures,
        "problems": problems,
        "records": records,
    }


def _cell(figure: dict[str, Any] | None, scale: str, digits: int) -> str:
    stats = (figure or {}).get("per_scale", {}).get(scale)
    if not stats:
        return "-"
    fmt = f"{{:,.{digits}f}}"
    text = fmt.format(stats["median"])
    if stats["n"] > 1:
        text += f" ({fmt.format(stats['min'])}-{fmt.format(stats['max'])})"
    return text


def _table(
    document: dict[str, Any], title: str, keys: list[tuple[str, str]], digits: int, fit: bool = True
) -> list[str]:
    scales = [f"{scale:g}" for scale in document["meta"]["scales"]]
    figures = document["figures"]
    rows = [(label, figures.get(key)) for label, key in keys if key in figures]
    if not rows:
        return []
    header = ["", *(f"scale {s}" for s in scales), *(["exponent b"] if fit else [])]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, figure in rows:
        cells = [label, *(_cell(figure, s, digits) for s in scales)]
        if fit:
            b = (figure or {}).get("exponent")
            cells.append("-" if b is None else f"{b:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


@dataclass(frozen=True)
class Goal:
    """One goal at one scale: its median figure (None when the bench did not measure it) against its target (None
    where the goal names none)."""

    name: str
    scale: str
    measured: float | None
    target: Target | None
    digits: int
    note: str = ""

    @property
    def met(self) -> str:
        if self.measured is None or self.target is None:
            return "-"
        return "yes" if self.target.met(self.measured) else "no"

    def measured_text(self) -> str:
        if self.measured is None:
            return "-"
        return f"{self.measured:,.{self.digits}f}" + (f" ({self.note})" if self.note else "")

    def target_text(self) -> str:
        return self.target.text() if self.target else "-"


def _median(figures: dict[str, Any], key: str, scale: str) -> float | None:
    median = figures.get(key, {}).get("per_scale", {}).get(scale, {}).get("median")
    return float(median) if median is not None else None


def _largest_exponent(figures: dict[str, Any], sources: list[str]) -> tuple[str, float] | None:
    """The stage whose time grows fastest with scale, and its b (None below two scales: no fit)."""
    fitted = {
        stage: float(b)
        for stage in stage_names(sources)
        if (b := figures.get(f"stage | {stage} | seconds", {}).get("exponent")) is not None
    }
    return max(fitted.items(), key=lambda item: item[1]) if fitted else None


def _target_at(target: Target | dict[float, Target] | None, scale: str) -> Target | None:
    return target.get(float(scale)) if isinstance(target, dict) else target


def goals(document: dict[str, Any]) -> list[Goal]:
    """Issue 20's goals per scale, from the medians, in the order the report lists them."""
    figures, sources = document["figures"], document["meta"]["sources"]
    scales = [f"{scale:g}" for scale in document["meta"]["scales"]]
    rows: list[tuple[str, str, Target | dict[float, Target] | None, int]] = [
        ("incremental day / full run", "ratio | incremental day / full run | x", INCREMENTAL_DAY_OVER_FULL_RUN, 3),
        ("incremental day / full refresh", "ratio | incremental day / full refresh | x", None, 3),
        ("nothing new: a run's fixed cost (s)", "incremental | nothing new | seconds", NOTHING_NEW_SECONDS, 1),
        ("Meltano / duckdb total", "ratio | Meltano / duckdb total | x", MELTANO_OVER_DUCKDB_TOTAL, 3),
        *(
            (f"Meltano / dlt {source}", f"ratio | Meltano / dlt {source} | x", MELTANO_OVER_DLT_PER_SOURCE, 3)
            for source in sources
        ),
    ]
    out = [
        Goal(name, scale, _median(figures, key, scale), _target_at(target, scale), digits)
        for name, key, target, digits in rows
        for scale in scales
    ]
    largest = _largest_exponent(figures, sources)
    span = scales[0] if len(scales) == 1 else f"{scales[0]}-{scales[-1]}"
    out.append(
        Goal(
            "every stage's exponent b",
            span,
            largest[1] if largest else None,
            STAGE_EXPONENT,
            2,
            note=f"largest: {largest[0]}" if largest else "",
        )
    )
    return out


def _goals_table(document: dict[str, Any]) -> list[str]:
    lines = ["### Goals (issue 20)", "", "| goal | scale | measured | target | met |", "|---|---|---|---|---|"]
    lines += [
        f"| {goal.name} | {goal.scale} | {goal.measured_text()} | {goal.target_text()} | {goal.met} |"
        for goal in goals(document)
    ]
    return [*lines, ""]


def _goal_lines(document: dict[str, Any]) -> list[str]:
    """The goals table for the screen: a line per goal, its scales side by side."""
    by_name: dict[str, list[Goal]] = {}
    for goal in goals(document):
        by_name.setdefault(goal.name, []).append(goal)
    width = max(len(name) for name in by_name)
    lines = ["Goals (issue 20), medians: scale: measured (target: met)"]
    for name, per_scale in by_name.items():
        cells = [
            f"{goal.scale}: {goal.measured_text()}" + (f" ({goal.target_text()}: {goal.met})" if goal.target else "")
            for goal in per_scale
        ]
        lines.append(f"  {name:<{width}}  " + " | ".join(cells))
    return lines


def markdown(document: dict[str, Any]) -> str:
    meta = document["meta"]
    sources = meta["sources"]
    stage_keys = lambda metric: [(s, f"stage | {s} | {metric}") for s in stage_names(sources)]  # noqa: E731
    dbt_parts = sorted({key.split(" | ")[1] for key in document["figures"] if key.startswith("dbt build | ")})
    loads = [(f"{n} {s}", f"load | {n} {s} | rows/s") for s in (*sources, "total") for n in LOADERS]
    ratios = [
        (f"Meltano / {n} {s}", f"ratio | Meltano / {n} {s} | x") for s in (*sources, "total") for n in LOADERS[1:]
    ]
    lines = [
        "# Tidewater bench",
        "",
        f"Scales {', '.join(f'{s:g}' for s in meta['scales'])}; {meta['repeats']} repeat(s) each; seed {meta['seed']}; "
        f"{meta['seconds'] / 60:.1f} min in all. Cells: median (min-max).",
        "",
        *_goals_table(document),
        meta["method"] + ".",
        "",
    ]
    lines += _table(document, "Source rows", [(s, f"source rows | {s} | rows") for s in (*sources, "total")], 0, False)
    lines += _table(document, "Wall time per stage (s)", stage_keys("seconds"), 1)
    lines += _table(document, "Throughput per stage (rows/s)", stage_keys("rows/s"), 0)
    lines += _table(document, "Peak RSS per stage (MB, process tree + PostgreSQL)", stage_keys("peak RSS MB"), 0)
    lines += _table(document, "Inside dbt build (s)", [(p, f"dbt build | {p} | seconds") for p in dbt_parts], 1)
    lines += _table(
        document,
        "Around the steps (s): the command, Dagster before and after the run, and the run with no step executing",
        [(part, f"orchestration | {part} | seconds") for part in ORCHESTRATION],
        1,
    )
    if meta["competitors_run"]:
        lines += _table(document, "Extract+load throughput by loader (rows/s)", loads, 0)
        lines += _table(document, "Our throughput as a ratio to each (Meltano rows/s ÷ theirs)", ratios, 3)
        peaks = [(f"{n} {s}", f"load | {n} {s} | peak RSS MB") for s in sources for n in LOADERS]
        lines += _table(document, "Extract+load peak RSS by loader (MB)", peaks, 0)
    else:
        lines += ["### Competitors", "", "not run (--skip-competitors)", ""]
    if meta["incremental_available"] and meta.get("incremental_run", True):
        keys = [(k, f"incremental | {k} | seconds") for k in INCREMENTAL_RUNS]
        lines += _table(document, "Incremental day vs full refresh, and a run with nothing new (s)", keys, 1)
        ratios = [(f"day / {k}", f"ratio | incremental day / {k} | x") for k in ("full run", "full refresh")]
        lines += _table(document, "Incremental day as a share of a whole run", ratios, 3)
    elif meta["incremental_available"]:
        lines += ["### Incremental day vs full refresh", "", "not run (--skip-incremental)", ""]
    else:
        lines += ["### Incremental day vs full refresh", "", "not available: `tidewater run` has no --days and "
                  "--full-refresh yet", ""]  # fmt: skip
    if meta.get("targets"):
        engines = [("DuckDB: the run's dbt build step", "stage | dbt build | seconds")]
        for engine in meta["targets"]:
            engines += [
                (f"{engine}: the lake loaded", f"engine | {engine} lake load | seconds"),
                (f"{engine}: dbt build --target {engine}", f"engine | {engine} dbt build | seconds"),
            ]
        lines += _table(document, "The same dbt build on each engine, from the same data (s)", engines, 1)
        ratios = [(f"{e} / DuckDB", f"ratio | {e} / DuckDB dbt build | x") for e in meta["targets"]]
        lines += _table(document, "Each engine's dbt build as a ratio to DuckDB's", ratios, 2)
    if document["problems"]:
        lines += [
            "### Problems (no figure reported for these loads)",
            "",
            *(f"- {p}" for p in document["problems"]),
            "",
        ]
    return "\n".join(lines)


def summary(document: dict[str, Any]) -> list[str]:
    """A few lines for the screen: each stage's median time at the largest scale, the load ratios and the goals."""
    figures = document["figures"]
    largest = f"{max(document['meta']['scales']):g}"
    lines = [f"Tidewater bench (medians at scale {largest}; exponent b of time ~ scale^b)"]
    for stage in stage_names(document["meta"]["sources"]):
        figure = figures.get(f"stage | {stage} | seconds")
        if figure and largest in figure["per_scale"]:
            b = figure["exponent"]
            rate = figures.get(f"stage | {stage} | rows/s", {}).get("per_scale", {}).get(largest, {}).get("median")
            lines.append(
                f"  {stage:<24} {figure['per_scale'][largest]['median']:>8.1f} s"
                + (f" {rate:>12,.0f} rows/s" if rate else " " * 19)
                + (f"   b={b:.2f}" if b is not None else "")
            )
    for name in LOADERS[1:]:
        ratio = figures.get(f"ratio | Meltano / {name} total | x", {}).get("per_scale", {}).get(largest)
        if ratio:
            lines.append(f"  extract+load throughput, Meltano / {name}: {ratio['median']:.3f}x")
    idle, before = (
        figures.get(f"orchestration | {part} | seconds", {}).get("per_scale", {}).get(largest, {}).get("median")
        for part in ("no step running", "before the run")
    )
    if idle is not None and before is not None:
        lines.append(f"  Dagster: {idle:.1f} s of the run with no step executing; {before:.1f} s before the run starts")
    if not document["meta"]["incremental_available"]:
        lines.append("  incremental day vs full refresh: not available")
    elif not document["meta"].get("incremental_run", True):
        lines.append("  incremental day vs full refresh: not run (--skip-incremental)")
    return [*lines, *_goal_lines(document)]
