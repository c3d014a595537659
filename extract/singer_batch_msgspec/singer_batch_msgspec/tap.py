"""The `tap-postgres-msgspec-batches` command: meltanolabs-tap-postgres 0.10.0, its jsonl batch files written by
msgspec (batcher.py). Settings, streams and messages are tap-postgres' own."""

from __future__ import annotations

from tap_postgres.tap import TapPostgres

from singer_batch_msgspec.batcher import use_for_jsonl


def main() -> None:
    use_for_jsonl()
    TapPostgres.cli()


if __name__ == "__main__":
    main()
