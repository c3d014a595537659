"""`tidewater bench` smoke: one repeat at scale 0.01, real PostgreSQL, real Meltano under Dagster, real dlt, real
DuckDB. The run with nothing new, the incremental day and the full refresh are three more whole runs: skipped here
(their figures come from the same reading of Dagster's record as the stages'); the report's rendering of them, and of
issue 20's goals, is checked on the real record."""

from __future__ import annotations

import copy
import json
from typing import Any

import click
import pytest
from helpers import TEST_SCALE, tidewater_cli

from tidewater.bench import report
from tidewater.bench.cli import _competitors
from tidewater.bench.stages import (
    ALL_LOADS,
    DOCS_STEP,
    POSTGRES_START,
    TOTAL,
    load_stage,
    one_step_stages,
    part_of_step_stages,
    stage_names,
)
from tidewater.orchestrate.sources import meltano_sources

SCALE = f"{TEST_SCALE:g}"
SOURCES = [source.name for source in meltano_sources()]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    result = tidewater_cli(
        "bench", "--scales", SCALE, "--repeats", "1", "--skip-incremental", "--out", str(out), data_dir=out / "unused"
    )
    if result.returncode != 0:
        pytest.fail(f"the bench failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    (folder,) = [path for path in out.iterdir() if path.is_dir() and path.name != "unused"]
    return result.stdout, json.loads((folder / "bench.json").read_text()), (folder / "bench.md").read_text()


def _median(document: dict[str, Any], key: str, scale: str = SCALE) -> float:
    return document["figures"][key]["per_scale"][scale]["median"]


def _goals(markdown: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The goals table of bench.md: (goal, scale) -> (measured, target, met)."""
    table = markdown.split("### Goals (issue 20)\n\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    return {(goal, scale): (measured, target, met) for goal, scale, measured, target, met in cells}


def test_every_stage_has_a_time_and_a_peak_memory(bench: tuple[str, dict[str, Any], str]) -> None:
    _, document, _ = bench
    for stage in stage_names(SOURCES):
        assert _median(document, f"stage | {stage} | seconds") > 0, stage
        assert _median(document, f"stage | {stage} | peak RSS MB") > 0, stage
        if stage != POSTGRES_START:
            assert _median(document, f"stage | {stage} | rows/s") > 0, stage
    for part in ("parse (dbt parse)", "models", "tests", "hooks", "elementary hooks", "execution (wall)"):
        assert _median(document, f"dbt build | {part} | seconds") > 0, part


def test_stages_are_the_steps_dagster_recorded(bench: tuple[str, dict[str, Any], str]) -> None:
    _, document, _ = bench
    (record,) = document["records"]
    stages, steps = record["stages"], record["dagster"]["steps"]
    for stage, step in one_step_stages().items():
        assert steps[step]["status"] == "SUCCESS", step
        assert stages[stage]["seconds"] == pytest.approx(steps[step]["seconds"]), stage
    for stage, (step, _, _) in part_of_step_stages().items():
        assert 0 < stages[stage]["seconds"] <= steps[step]["seconds"], stage
    # The loads run side by side: together they take at least the longest one, and less than one after the other;
    # so do the docs and the report.
    loads = [stages[load_stage(source)]["seconds"] for source in SOURCES]
    assert max(loads) <= stages[ALL_LOADS]["seconds"] < sum(loads)
    assert steps[DOCS_STEP]["seconds"] < stages["docs"]["seconds"] + stages["report"]["seconds"]
    assert stages[ALL_LOADS]["rows"] == sum(stages[load_stage(source)]["rows"] for source in SOURCES)
    assert stages[POSTGRES_START]["seconds"] < stages["generate"]["seconds"]
    # The run is inside the command, and Dagster's own time in it is part of the run.
    assert stages[TOTAL]["seconds"] == pytest.approx(record["dagster"]["seconds"])
    orchestration = record["orchestration"]
    assert 0 < stages[TOTAL]["seconds"] < orchestration["tidewater run command"]
    assert orchestration["before the run"] > 0 and orchestration["after the run"] > 0
    assert 0 < orchestration["no step running"] < stages[TOTAL]["seconds"]


def test_competitors_load_every_source_row(bench: tuple[str, dict[str, Any], str]) -> None:
    _, document, _ = bench
    assert document["problems"] == []
    (record,) = document["records"]
    assert list(record["sources"]) == SOURCES
    assert all(rows > 0 for rows in record["sources"].values()), record["sources"]
    for name in ("dlt", "duckdb"):
        run = record["competitors"][name]
        assert run["error"] is None and run["mismatches"] == []
        assert {source: entry["rows"] for source, entry in run["sources"].items()} == record["sources"]
        for source in record["sources"]:
            assert _median(document, f"ratio | Meltano / {name} {source} | x") > 0
    for source, rows in record["sources"].items():
        assert record["stages"][load_stage(source)]["rows"] == rows, "Meltano's raw rows differ from the source"


def test_markdown_table_and_summary(bench: tuple[str, dict[str, Any], str]) -> None:
    stdout, _, markdown = bench
    assert "### Wall time per stage (s)" in markdown
    assert f"| scale {SCALE} | exponent b |" in markdown
    for stage in stage_names(SOURCES):
        assert f"| {stage} |" in markdown, stage
    assert "### Around the steps (s)" in markdown
    assert "| no step running |" in markdown
    assert "### Our throughput as a ratio to each" in markdown
    assert "### Incremental day vs full refresh\n\nnot run (--skip-incremental)" in markdown
    # A goal the bench did not measure has no figure and no verdict; one it measured has both.
    goals = _goals(markdown)
    assert goals["nothing new: a run's fixed cost (s)", SCALE] == ("-", "< 15 s", "-")
    assert goals["incremental day / full run", SCALE] == ("-", "-", "-")
    assert goals["every stage's exponent b", SCALE] == ("-", "<= 1", "-")  # one scale: no fit
    assert goals["Meltano / duckdb total", SCALE][2] in ("yes", "no")
    assert "Goals (issue 20)" in stdout and "  nothing new: a run's fixed cost (s)" in stdout
    assert "Tidewater bench (medians at scale" in stdout
    assert "  dbt build " in stdout
    assert "Dagster: " in stdout and "no step executing" in stdout
    assert "Meltano / duckdb" in stdout


def _with_runs(record: dict[str, Any], scale: float, time_factor: float, seconds: dict[str, float]) -> dict[str, Any]:
    """A copy of a real record as if at `scale`, its stages `time_factor` times as long, with the runs on its folder
    of the shape incremental.py writes (running them here would be three more whole runs)."""
    record = copy.deepcopy(record)
    record["scale"] = scale
    for stage in record["stages"].values():
        stage["seconds"] *= time_factor
    record["incremental"] = {
        key: {"seconds": value, "peak_rss": 300 * report.MB, "command_seconds": value + 10, "run_id": "x"}
        for key, value in seconds.items()
    }
    return record


def test_incremental_figures_and_goals_reach_the_report(bench: tuple[str, dict[str, Any], str]) -> None:
    """The incremental runs' figures, and issue 20's goals computed from them, on the real record made into two
    scales: at scale 1 the day is a fifth of the full run (goal <= 0.25: met), at scale 10 also a fifth (goal <= 0.10:
    not met); nothing new takes 12 s then 16 s (goal < 15 s); the stages take 30 times as long for 10 times the
    data (b = log10(30) > 1: not met)."""
    _, document, _ = bench
    real = document["records"][0]
    total = real["stages"][TOTAL]["seconds"]
    small = _with_runs(real, 1.0, 1.0, {"nothing new": 12.0, "incremental day": total / 5, "full refresh": 50.0})
    large = _with_runs(real, 10.0, 30.0, {"nothing new": 16.0, "incremental day": 30 * total / 5})
    del large["competitors"]["dlt"]  # as with --competitors duckdb: the goal against dlt has no figure there
    meta = {**document["meta"], "incremental_run": True, "scales": [1.0, 10.0]}
    rebuilt = report.build([small, large], **{k: v for k, v in meta.items() if k != "method"})
    assert _median(rebuilt, "incremental | incremental day | seconds", "1") == pytest.approx(total / 5)
    assert _median(rebuilt, "incremental | full refresh | peak RSS MB", "1") == 300.0
    assert _median(rebuilt, "ratio | incremental day / full run | x", "1") == pytest.approx(0.2)
    assert _median(rebuilt, "ratio | incremental day / full refresh | x", "1") == pytest.approx(total / 5 / 50.0)
    markdown = report.markdown(rebuilt)
    assert "### Incremental day vs full refresh, and a run with nothing new (s)\n" in markdown
    assert markdown.index("### Goals (issue 20)") < markdown.index("### Wall time per stage (s)")

    goals = _goals(markdown)
    assert goals["incremental day / full run", "1"] == ("0.200", "<= 0.25", "yes")
    assert goals["incremental day / full run", "10"] == ("0.200", "<= 0.1", "no")
    assert goals["incremental day / full refresh", "1"] == (f"{total / 5 / 50.0:,.3f}", "-", "-")
    assert goals["incremental day / full refresh", "10"] == ("-", "-", "-")  # no full refresh at scale 10
    assert goals["nothing new: a run's fixed cost (s)", "1"] == ("12.0", "< 15 s", "yes")
    assert goals["nothing new: a run's fixed cost (s)", "10"] == ("16.0", "< 15 s", "no")
    for source in SOURCES:
        ratio = _median(rebuilt, f"ratio | Meltano / dlt {source} | x", "1")
        assert goals[f"Meltano / dlt {source}", "1"] == (f"{ratio:,.3f}", ">= 1", "yes" if ratio >= 1 else "no")
        assert goals[f"Meltano / dlt {source}", "10"] == ("-", ">= 1", "-")
    duckdb = _median(rebuilt, "ratio | Meltano / duckdb total | x", "10")
    assert goals["Meltano / duckdb total", "10"][1:] == (">= 0.25", "yes" if duckdb >= 0.25 else "no")
    measured, target, met = goals["every stage's exponent b", "1-10"]
    assert measured.startswith("1.48 (largest: ") and (target, met) == ("<= 1", "no")

    stdout = "\n".join(report.summary(rebuilt))
    assert "  incremental day / full run" in stdout and "1: 0.200 (<= 0.25: yes) | 10: 0.200 (<= 0.1: no)" in stdout
    assert "12.0 (< 15 s: yes) | 10: 16.0 (< 15 s: no)" in stdout


def test_each_engines_build_reaches_the_report_beside_duckdbs(bench: tuple[str, dict[str, Any], str]) -> None:
    """`--target postgres`'s figures (the lake's copy, the build), on the real record: the PostgreSQL build itself is
    proven in test_scale_out.py, on the shared built folder, not a second time here."""
    _, document, markdown = bench
    assert "The same dbt build on each engine" not in markdown  # not asked for
    real = copy.deepcopy(document["records"][0])
    on_duckdb = real["stages"]["dbt build"]["seconds"]
    real["engines"] = {"postgres": {"lake load seconds": 0.5, "dbt build seconds": 3 * on_duckdb, "nodes": 500}}
    meta = {**document["meta"], "targets": ["postgres"]}
    rebuilt = report.build([real], **{k: v for k, v in meta.items() if k != "method"})
    assert _median(rebuilt, "ratio | postgres / DuckDB dbt build | x") == pytest.approx(3.0)
    markdown = report.markdown(rebuilt)
    table = markdown.split("### The same dbt build on each engine, from the same data (s)\n\n", 1)[1].split("\n\n")[0]
    assert "| postgres: the lake loaded | 0.5 |" in table
    assert f"| postgres: dbt build --target postgres | {3 * on_duckdb:,.1f} |" in table
    assert "| postgres / DuckDB | 3.00 |" in markdown


def test_exponent_of_the_fit() -> None:
    assert report.exponent({0.1: 2.0, 1: 20.0, 10: 200.0}) == pytest.approx(1.0)
    assert report.exponent({0.1: 5.0, 10: 5.0}) == pytest.approx(0.0)
    assert report.exponent({1: 3.0}) is None


def test_competitors_option_names_which_to_run() -> None:
    assert _competitors(None, None, "duckdb") == ["duckdb"]
    assert _competitors(None, None, "duckdb,dlt") == ["dlt", "duckdb"]
    assert _competitors(None, None, "none") == []
    with pytest.raises(click.BadParameter, match=r"unknown competitor\(s\) \['dlt2'\]"):
        _competitors(None, None, "dlt2")
