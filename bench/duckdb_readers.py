"""The practical limit: DuckDB reads the sources itself (runs in .venv-bench, with DuckDB 1.5.5).

- app database: the postgres extension (`postgres_scanner`, from the PyPI package duckdb-extension-postgres-scanner,
  loaded from its file: nothing is downloaded at run time), `CREATE TABLE ... AS SELECT * FROM pg.public.<table>`;
- events: every non-blank line of every landing file, read with `read_csv` as one text column and parsed with
  DuckDB's JSON functions, so a malformed line lands with its raw text as it does with tap-landing-zone
  (`read_json` would have to skip it, and the row counts would differ);
- marketing spreadsheet: `read_csv`, every column as text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from tap_landing_zone.lines import EVENT_FIELDS

from tidewater.bench.load_result import APP_TABLES, LoadResult, event_files, loader_arguments, marketing_file

UNIT_SEPARATOR = "\x1f"  # never in the events: each line is read whole, as one text column


def postgres_extension() -> Path:
    """The extension file shipped by the duckdb-extension-postgres-scanner wheel, for this DuckDB version."""
    import duckdb_extension_postgres_scanner as package

    found = sorted(Path(package.__file__).parent.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise SystemExit(f"duckdb-extension-postgres-scanner has no build for DuckDB {duckdb.__version__}")
    return found[0]


def libpq_dsn(conninfo: str) -> str:
    """postgresql://user:password@host:port/db -> the key=value form the extension's ATTACH takes."""
    from urllib.parse import unquote, urlsplit

    url = urlsplit(conninfo)
    return (
        f"host={url.hostname} port={url.port} dbname={url.path.lstrip('/')} "
        f"user={unquote(url.username or '')} password={unquote(url.password or '')}"
    )


def count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    row = connection.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    args = loader_arguments(__doc__ or "")
    result = LoadResult()
    with duckdb.connect(str(args.database)) as connection:
        connection.execute(f"load '{postgres_extension()}'")
        with result.timed("app") as entry:
            connection.execute("create schema raw_app")
            connection.execute(f"attach '{libpq_dsn(args.conninfo)}' as pg (type postgres, read_only)")
            for table in APP_TABLES:
                connection.execute(f"create table raw_app.{table} as select * from pg.public.{table}")
                entry["rows"][table] = count(connection, f"raw_app.{table}")
            connection.execute("detach pg")
        with result.timed("events") as entry:
            files = [str(path) for path in event_files(args.landing_dir)]
            fields = ",\n".join(f"json_extract_string(object, '$.{field}') as {field}" for field in EVENT_FIELDS)
            connection.execute("create schema raw_events")
            # A malformed line must not reach a JSON function (DuckDB raises): each step only sees valid JSON.
            connection.execute(
                f"""
                create table raw_events.events as
                with lines as (
                    select line, filename as source_file, case when json_valid(line) then line end as valid_json
                    from read_csv(?, columns = {{'line': 'VARCHAR'}}, header = false, delim = '{UNIT_SEPARATOR}',
                                  quote = '', escape = '', filename = true, auto_detect = false, strict_mode = false)
                    where trim(coalesce(line, '')) <> ''
                ),
                objects as (
                    select *, case when json_type(valid_json) = 'OBJECT' then valid_json end as object from lines
                )
                select {fields},
                    case when object is null then 'malformed JSON' end as parse_error,
                    case when object is null then line end as raw_line,
                    source_file as _source_file
                from objects
                """,
                [files],
            )
            entry["rows"]["events"] = count(connection, "raw_events.events")
        with result.timed("marketing") as entry:
            connection.execute("create schema raw_marketing")
            connection.execute(
                "create table raw_marketing.marketing_spend as select * from read_csv(?, header = true, "
                "all_varchar = true, strict_mode = false, null_padding = true)",
                [str(marketing_file(args.landing_dir))],
            )
            entry["rows"]["marketing_spend"] = count(connection, "raw_marketing.marketing_spend")
    result.write(args.result, tool="duckdb", version=duckdb.__version__)


if __name__ == "__main__":
    main()
