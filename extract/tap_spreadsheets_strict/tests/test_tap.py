"""The `tap-spreadsheets-strict` command, as Meltano runs it: a shifted row stops it before any row of the file is
sent; a good file loads every row, blank ones included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.spreadsheet import ROWS, SHIFTED_ROW, tap_config, write_spreadsheet

TAP = Path(sys.executable).parent / "tap-spreadsheets-strict"


def _run_tap(tmp_path: Path, csv_file: Path) -> subprocess.CompletedProcess[str]:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(tap_config(csv_file)))
    return subprocess.run(
        [str(TAP), "--config", str(config_file)], capture_output=True, text=True, timeout=120, check=False
    )


def _record_messages(stdout: str) -> list[dict]:
    return [m for m in map(json.loads, stdout.splitlines()) if m["type"] == "RECORD"]


def test_a_shifted_row_stops_the_tap_before_any_row_of_the_file_is_sent(tmp_path: Path) -> None:
    csv_file = write_spreadsheet(tmp_path / "marketing_spend.csv", [ROWS[0], ROWS[1], SHIFTED_ROW, ROWS[3]])
    result = _run_tap(tmp_path, csv_file)
    assert result.returncode != 0
    assert f"ShiftedColumnError: {csv_file} line 4: 7 values for 6 columns" in result.stderr, result.stderr[-3000:]
    assert _record_messages(result.stdout) == []


def test_a_file_whose_rows_fit_sends_every_row(tmp_path: Path) -> None:
    result = _run_tap(tmp_path, write_spreadsheet(tmp_path / "marketing_spend.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    records = [m["record"] for m in _record_messages(result.stdout)]
    assert len(records) == len(ROWS)
    assert [r["amount_spent_usd"] for r in records] == ["12.50", "", "$1,250.00", "3.00"]
    assert records[3]["notes"] == 'said "hi"'
