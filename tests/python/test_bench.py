"""`tidewater bench` smoke: one repeat at scale 0.01, real PostgreSQL, real Meltano, real dlt, real DuckDB."""

from __future__ import annotations

import argparse
import json

import pytest
from conftest import TEST_SCALE, tidewater_cli

from tidewater.bench import report
from tidewater.bench.cli import _competitors
from tidewater.bench.stages import EL_SOURCES, STEPS

SCALE = f"{TEST_SCALE:g}"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, str]:
    out = tmp_path_factory.mktemp("bench")
    result = tidewater_cli("bench", "--scales", SCALE, "--repeats", "1", "--out", str(out), data_dir=out / "unused")
    if result.returncode != 0:
        pytest.fail(f"the bench failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    (folder,) = [path for path in out.iterdir() if path.is_dir() and path.name != "unused"]
    return result.stdout, json.loads((folder / "bench.json").read_text()), (folder / "bench.md").read_text()


def _median(document: dict, key: str) -> float:
    return document["figures"][key]["per_scale"][SCALE]["median"]


def test_every_stage_has_a_time_and_a_peak_memory(bench: tuple[str, dict, str]) -> None:
    _, document, _ = bench
    stages = [*STEPS, *(f"extract+load {source}" for source in EL_SOURCES.values())]
    for stage in stages:
        assert _median(document, f"stage | {stage} | seconds") > 0, stage
        assert _median(document, f"stage | {stage} | peak RSS MB") > 0, stage
        if stage != "postgres start":
            assert _median(document, f"stage | {stage} | rows/s") > 0, stage
    for part in ("parse (dbt parse)", "models", "tests", "hooks", "elementary hooks", "execution (wall)"):
        assert _median(document, f"dbt build | {part} | seconds") > 0, part


def test_competitors_load_every_source_row(bench: tuple[str, dict, str]) -> None:
    _, document, _ = bench
    assert document["problems"] == []
    (record,) = document["records"]
    assert all(rows > 0 for rows in record["sources"].values()), record["sources"]
    for name in ("dlt", "duckdb"):
        run = record["competitors"][name]
        assert run["error"] is None and run["mismatches"] == []
        assert {source: entry["rows"] for source, entry in run["sources"].items()} == record["sources"]
        for source in record["sources"]:
            assert _median(document, f"ratio | Meltano / {name} {source} | x") > 0
    for source, rows in record["sources"].items():
        assert record["stages"][f"extract+load {source}"]["rows"] == rows, "Meltano's raw rows differ from the source"


def test_markdown_table_and_summary(bench: tuple[str, dict, str]) -> None:
    stdout, _, markdown = bench
    assert "### Wall time per stage (s)" in markdown
    assert f"| scale {SCALE} | exponent b |" in markdown
    assert "| extract+load events |" in markdown
    assert "### Our throughput as a ratio to each" in markdown
    assert "Incremental day vs full refresh" in markdown
    assert "Tidewater bench (medians at scale" in stdout
    assert "Meltano / duckdb" in stdout


def test_exponent_of_the_fit() -> None:
    assert report.exponent({0.1: 2.0, 1: 20.0, 10: 200.0}) == pytest.approx(1.0)
    assert report.exponent({0.1: 5.0, 10: 5.0}) == pytest.approx(0.0)
    assert report.exponent({1: 3.0}) is None


def test_competitors_option_names_which_to_run() -> None:
    assert _competitors("duckdb") == ["duckdb"]
    assert _competitors("duckdb,dlt") == ["dlt", "duckdb"]
    assert _competitors("none") == []
    with pytest.raises(argparse.ArgumentTypeError, match=r"unknown competitor\(s\) \['dlt2'\]"):
        _competitors("dlt2")
