"""`tidewater`: run the lifecycle, or one part of it. Errors are one line you can act on, not a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tidewater.errors import TidewaterError
from tidewater.paths import Paths

DEFAULT_SEED = 42


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidewater", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="where sources, warehouse and state live (default: data/)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="the whole lifecycle: PostgreSQL, generate, EL, dbt build, docs")
    run.add_argument("--scale", type=float, default=1.0, help="1 = 10k customers, 100k orders, 1M events")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED)
    run.add_argument("--no-docs", action="store_true", help="skip dbt docs generate")

    pg = commands.add_parser("pg", help="the embedded PostgreSQL holding the app database")
    pg.add_argument("action", choices=["start", "stop", "status"])

    generate = commands.add_parser("generate", help="write the sources (PostgreSQL must be up: `tidewater pg start`)")
    generate.add_argument("--scale", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=DEFAULT_SEED)

    commands.add_parser("summary", help="rows per layer in the warehouse")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    paths = Paths.from_env(args.data_dir)
    try:
        if args.command == "run":
            from tidewater import pipeline

            report = pipeline.run(paths, seed=args.seed, scale=args.scale, docs=not args.no_docs)
            pipeline.print_summary(paths, report)
        elif args.command == "pg":
            from tidewater import pipeline
            from tidewater.postgres import PostgresServer

            server = PostgresServer(paths.postgres_dir)
            if args.action == "start":
                connection = server.start()
                pipeline.write_env_file(paths, connection)
                print(f"PostgreSQL listening on 127.0.0.1:{connection.port} (database {connection.database});")
                print(f"connection written to {paths.env_file}" + (" and .env" if paths.is_default else ""))
            elif args.action == "stop":
                print("PostgreSQL stopped" if server.stop() else "PostgreSQL was not running")
            else:
                print("running" if server.is_running() else "stopped")
        elif args.command == "generate":
            from tidewater import pipeline
            from tidewater.postgres import PostgresServer

            server = PostgresServer(paths.postgres_dir)
            if not server.is_running():
                raise TidewaterError("PostgreSQL is not running: start it with `tidewater pg start`")
            pipeline.generate_sources(paths, server.connection(), args.seed, args.scale)
        elif args.command == "summary":
            from tidewater import warehouse

            for layer, relations, rows in warehouse.rows_per_layer(warehouse.table_counts(paths.warehouse)):
                print(f"{layer:<20} {relations:>3} relations {rows:>12,} rows")
    except TidewaterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
