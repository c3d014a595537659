"""The CSV dialect of target-duckdb's batch files, stated to DuckDB instead of left for it to guess.

target-duckdb writes each batch to a CSV file with Python's csv module (delimiter ",", quote '"', quotes doubled) and
loads it with `COPY ... WITH (new_line '\\r\\n')`, leaving DuckDB to guess the rest. The guess goes wrong:
- with a value holding a quote (a malformed JSON line kept as text, say), DuckDB 1.2 guesses the escape character
  `\\` and the whole load fails ("Value with unterminated quote found");
- with duckdb >= 1.3 it guesses a header line and drops the first row of every batch, silently;
- a line over DuckDB's default max_line_size (2 MB: one huge field, such as a 3 MB user agent) fails the load.
This passes the real dialect and a line limit above the largest Singer message Meltano passes (elt.buffer_size,
100 MiB) to that one COPY statement.
"""

from __future__ import annotations

from typing import Any

SNIFFED_COPY_OPTIONS = "WITH (new_line '\\r\\n')"
MAX_LINE_SIZE = 128 * 1024 * 1024


def explicit_copy_options(delimiter: str = ",", quotechar: str = '"') -> str:
    """The options that describe the file target-duckdb actually writes."""
    return (
        f"WITH (new_line '\\r\\n', header false, delimiter '{delimiter}', quote '{quotechar}', escape '{quotechar}', "
        f"max_line_size {MAX_LINE_SIZE})"
    )


class ExplicitCsvConnection:
    """A DuckDB connection whose batch COPY statements carry the CSV dialect; everything else passes through."""

    def __init__(self, connection: Any, copy_options: str) -> None:
        self._connection = connection
        self._copy_options = copy_options

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("COPY ") and query.endswith(SNIFFED_COPY_OPTIONS):
            query = query[: -len(SNIFFED_COPY_OPTIONS)] + self._copy_options
        self._connection.execute(query, *args, **kwargs)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)
