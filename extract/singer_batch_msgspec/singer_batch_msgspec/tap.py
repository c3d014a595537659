"""The `tap-postgres-msgspec-batches` command: meltanolabs-tap-postgres 0.10.0, its jsonl batch files written by
msgspec (batcher.py) and holding records as its stream maps made them (stream_maps.py). Settings, streams and
messages are tap-postgres' own."""

from __future__ import annotations

import sys

import sqlalchemy.exc
from tap_postgres.tap import TapPostgres

from singer_batch_msgspec.batcher import use_for_jsonl
from singer_batch_msgspec.stream_maps import apply_in_batches


def main() -> None:
    use_for_jsonl()
    apply_in_batches()
    try:
        TapPostgres.cli()
    except sqlalchemy.exc.OperationalError as exc:
        # The database is not reachable (the usual cause: `make run` stops the PostgreSQL it started). The tap's own
        # report is a 150-line traceback through SQLAlchemy; one line says what is wrong and what to do.
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        sys.exit(
            f"tap-postgres cannot reach the app database: {reason}. "
            "Is PostgreSQL running? `tidewater pg start` starts it (and writes the connection to .env)."
        )


if __name__ == "__main__":
    main()
