"""checked_rows: rows pass or stop the load, naming the file, the line and the counts."""

from __future__ import annotations

import csv
import io

import pytest
from tap_spreadsheets_strict.csv_rows import ShiftedColumnError, checked_rows


def _checked(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    return list(checked_rows(reader, "spend.csv", lambda: reader.line_num))


def test_rows_that_fit_the_header_and_blank_rows_pass() -> None:
    assert _checked('a,b,c\n1,2,3\n,,\n\n"4,5",6,7\n') == [["1", "2", "3"], ["", "", ""], [], ["4,5", "6", "7"]]


def test_a_header_alone_gives_no_rows() -> None:
    assert _checked("a,b,c\n") == []
    assert _checked("") == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-10-20,email,$1,250.00,x\n", "spend.csv line 3: 5 values for 4 columns"),
        ("2026-10-20,email\n", "spend.csv line 3: 2 values for 4 columns"),
    ],
)
def test_a_row_with_more_or_fewer_values_than_the_header_stops_with_file_line_and_counts(
    row: str, message: str
) -> None:
    with pytest.raises(ShiftedColumnError, match=message) as raised:
        _checked("date,channel,amount,notes\n2026-10-19,ads,1.00,\n" + row)
    assert "fix the file and run again" in str(raised.value)
