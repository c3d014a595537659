"""The tool a user would pick instead of Meltano: dlt, into DuckDB (runs in .venv-bench).

- app database: dlt's `sql_database` source (SQLAlchemy with psycopg 3), its default backend, every table;
- events: a plain dlt resource over the landing files, each line parsed by tap-landing-zone's own parser (so the
  same per-line work: malformed lines land with their raw text), yielded in pages of 10,000;
- marketing spreadsheet: a dlt resource over Python's csv reader, every column as text.
Each source is one `pipeline.run` with write_disposition "replace", into one DuckDB file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tidewater.bench.load_result import APP_TABLES, LoadResult, event_files, loader_arguments, marketing_file

PAGE = 10_000


def events(landing_dir: Path) -> Iterator[list[dict[str, Any]]]:
    from tap_landing_zone.lines import parse_line

    events_dir = landing_dir / "events"
    page: list[dict[str, Any]] = []
    for path in event_files(landing_dir):
        source_file = path.relative_to(events_dir).as_posix()
        with path.open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                record = parse_line(line)
                record["_source_file"] = source_file
                record["_line_number"] = line_number
                page.append(record)
                if len(page) >= PAGE:
                    yield page
                    page = []
    if page:
        yield page


def marketing(path: Path) -> Iterator[list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        page: list[dict[str, str]] = []
        for row in reader:
            page.append(dict(zip(header, row, strict=False)))
            if len(page) >= PAGE:
                yield page
                page = []
        if page:
            yield page


def table_rows(pipeline: Any, dataset: str, table: str) -> int:
    with pipeline.sql_client() as client:
        rows = client.execute_sql(f'select count(*) from "{dataset}"."{table}"')
    return int(rows[0][0])


def main() -> None:
    args = loader_arguments(__doc__ or "")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.sql_database import sql_database
    from tap_landing_zone.lines import EVENT_FIELDS

    destination = dlt.destinations.duckdb(str(args.database))
    result = LoadResult()

    def pipeline(name: str, dataset: str) -> Any:
        return dlt.pipeline(
            pipeline_name=f"bench_{name}",
            destination=destination,
            dataset_name=dataset,
            pipelines_dir=str(args.work_dir / "dlt-pipelines"),
        )

    credentials = args.conninfo.replace("postgresql://", "postgresql+psycopg://", 1)
    with result.timed("app") as entry:
        app = pipeline("app", "raw_app")
        app.run(sql_database(credentials, schema="public", table_names=list(APP_TABLES)), write_disposition="replace")
        for table in APP_TABLES:
            entry["rows"][table] = table_rows(app, "raw_app", table)

    text = {"data_type": "text", "nullable": True}
    event_columns = {name: text for name in (*EVENT_FIELDS, "extra_fields", "parse_error", "raw_line")}
    with result.timed("events") as entry:
        pipe = pipeline("events", "raw_events")
        resource = dlt.resource(events(args.landing_dir), name="events", columns=event_columns)
        pipe.run(resource, write_disposition="replace")
        entry["rows"]["events"] = table_rows(pipe, "raw_events", "events")

    with result.timed("marketing") as entry:
        pipe = pipeline("marketing", "raw_marketing")
        pipe.run(
            dlt.resource(marketing(marketing_file(args.landing_dir)), name="marketing_spend"),
            write_disposition="replace",
        )
        entry["rows"]["marketing_spend"] = table_rows(pipe, "raw_marketing", "marketing_spend")
    result.write(args.result, tool="dlt", version=dlt.__version__)


if __name__ == "__main__":
    main()
