"""`tidewater bench` smoke: one repeat at scale 0.01, real PostgreSQL, real Meltano under Dagster, real dlt, real
DuckDB. The incremental day and the full refresh are two more whole runs: skipped here (their figures come from the
same reading of Dagster's record as the stages'); the report's rendering of them is checked on the real record."""

from __future__ import annotations

import copy
import json
from typing import Any

import click
import pytest
from helpers import TEST_SCALE, tidewater_cli

from tidewater.bench import report
from tidewater.bench.cli import _competitors
from tidewater.bench.stages import ALL_LOADS, POSTGRES_START, TOTAL, load_stage, one_step_stages, stage_names
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


def _median(document: dict[str, Any], key: str) -> float:
    return document["figures"][key]["per_scale"][SCALE]["median"]


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
    # The loads run side by side: together they take at least the longest one, and less than one after the other.
    loads = [stages[load_stage(source)]["seconds"] for source in SOURCES]
    assert max(loads) <= stages[ALL_LOADS]["seconds"] < sum(loads)
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
    assert "Tidewater bench (medians at scale" in stdout
    assert "  dbt build " in stdout
    assert "Dagster: " in stdout and "no step executing" in stdout
    assert "Meltano / duckdb" in stdout


def test_incremental_figures_reach_the_report(bench: tuple[str, dict[str, Any], str]) -> None:
    """The report's side of the incremental day, on the real record with figures of the shape incremental.py
    writes (running them here would be two more whole runs)."""
    _, document, _ = bench
    record = copy.deepcopy(document["records"][0])
    record["incremental"] = {
        key: {"seconds": seconds, "peak_rss": 300 * report.MB, "command_seconds": seconds + 10, "run_id": "x"}
        for key, seconds in (("incremental day", 40.0), ("full refresh", 50.0))
    }
    meta = {**document["meta"], "incremental_run": True}
    rebuilt = report.build([record], **{k: v for k, v in meta.items() if k != "method"})
    assert _median(rebuilt, "incremental | incremental day | seconds") == 40.0
    assert _median(rebuilt, "incremental | full refresh | peak RSS MB") == 300.0
    assert "### Incremental day vs full refresh (s)\n" in report.markdown(rebuilt)


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
