"""A small marketing spreadsheet, written by the tests, and the tap's settings for it (as meltano/ sets them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADER = "Spend Date,Channel,Amount Spent (USD),Clicks,Impressions,Notes\n"
ROWS = [
    "2026-10-20,paid_search,12.50,4,300,\n",
    ",,,,,\n",  # a blank row, as a person leaves one: passes, staging leaves it out
    '2026-10-20,email,"$1,250.00",310,5400,launch\n',  # a comma inside quotes is one value
    '2026-10-21,social,3.00,1,20,"said ""hi"""\n',
]
# A row with one value too many: an unquoted `$1,250.00`.
SHIFTED_ROW = "2026-10-20,email,$1,250.00,310,5400,launch\n"


def write_spreadsheet(path: Path, rows: list[str] = ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows))
    return path


def tap_config(path: Path) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": str(path),
                "format": "csv",
                "table_name": "marketing_spend",
                "delimiter": ",",
                "drop_empty": False,
                "sample_rows": 10000,
            }
        ]
    }
