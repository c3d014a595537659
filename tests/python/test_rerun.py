"""Runs last (by name): a second run on the same data folder doubles nothing."""

from __future__ import annotations

from conftest import TEST_SCALE, PipelineRun, tidewater_cli

from tidewater.orchestrate import warehouse


def test_second_run_changes_no_row(pipeline_run: PipelineRun) -> None:
    """Run the same pipeline again on the same data folder: every table keeps exactly its rows (Elementary's own
    tables excepted: they record each run, so they grow by design)."""

    def counts() -> dict[str, dict[str, int]]:
        return {s: t for s, t in warehouse.table_counts(pipeline_run.paths.warehouse).items() if s != "elementary"}

    before = counts()
    result = tidewater_cli("run", "--scale", str(TEST_SCALE), "--no-docs", data_dir=pipeline_run.paths.data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = counts()
    assert after == before
