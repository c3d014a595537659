"""tap-spreadsheets' stream, its CSV rows checked against the header (csv_rows.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from tap_spreadsheets.stream import SpreadsheetStream

from tap_spreadsheets_strict.csv_rows import checked_rows


class StrictSpreadsheetStream(SpreadsheetStream):
    """SpreadsheetStream; a CSV row with more or fewer values than the header stops the load."""

    def _iter_csv(self, file: str) -> Iterator[list[str]]:
        """tap-spreadsheets' own `_iter_csv` (the data rows of a CSV file), with the rows checked."""
        delimiter, quotechar = self._detect_csv_dialect(file)
        with self.storage.open(file, "rt") as fh:
            reader = csv.reader(fh, delimiter=delimiter, quotechar=quotechar)
            for _ in range(self.skip_rows):
                next(reader, None)
            yield from checked_rows(reader, file, lambda: reader.line_num)
