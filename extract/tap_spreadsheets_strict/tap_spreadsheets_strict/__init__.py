"""Run tap-spreadsheets 1.1.2 with CSV rows checked against the header.

tap-spreadsheets reads each CSV row by position against the header: a row with an extra value (an unquoted
`$1,250.00`, a comma typed in a note) keeps the first values, shifted into the wrong columns, and silently drops the
rest; a row with too few values gets nulls. This wrapper stops instead, naming the file, the line and the counts, before
any row of that file is sent (the file loads whole or not at all). Blank lines pass: staging leaves them out.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator

from tap_spreadsheets.stream import SpreadsheetStream
from tap_spreadsheets.tap import TapSpreadsheets


class ShiftedColumnError(ValueError):
    """A CSV row whose number of values is not the header's."""


def checked_rows(reader: Iterator[list[str]], file: str, line_number: Callable[[], int]) -> Iterator[list[str]]:
    header = next(reader, None) or []
    for row in reader:
        if not any(value.strip() for value in row):
            yield row  # a blank row carries no value
        elif len(row) != len(header):
            raise ShiftedColumnError(
                f"{file} line {line_number()}: {len(row)} values for {len(header)} columns "
                f"(a shifted column? an unquoted comma?): {','.join(row)[:200]!r}; fix the file and run again"
            )
        else:
            yield row


def _iter_csv(self: SpreadsheetStream, file: str) -> Iterator[list[str]]:
    """tap-spreadsheets' own `_iter_csv`, with the rows checked."""
    delimiter, quotechar = self._detect_csv_dialect(file)
    with self.storage.open(file, "rt") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar=quotechar)
        for _ in range(self.skip_rows):
            next(reader, None)
        yield from checked_rows(reader, file, lambda: reader.line_num)


def main() -> None:
    SpreadsheetStream._iter_csv = _iter_csv  # type: ignore[method-assign]
    TapSpreadsheets.cli()
