"""CSV rows checked against the header: a row with more or fewer values than the header stops the load.

tap-spreadsheets reads each CSV row by position against the header: a row with an extra value (an unquoted
`$1,250.00`, a comma typed in a note) keeps the first values, shifted into the wrong columns, and silently drops the
rest; a row with too few values gets nulls. These rows stop instead, naming the file, the line and the counts, before
any row of that file is sent (the file loads whole or not at all). Blank lines pass: staging leaves them out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator


class ShiftedColumnError(ValueError):
    """A CSV row whose number of values is not the header's."""


def checked_rows(reader: Iterator[list[str]], file: str, line_number: Callable[[], int]) -> Iterator[list[str]]:
    """The rows after the header (the reader's first row), each checked against it; line_number names a bad row."""
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
