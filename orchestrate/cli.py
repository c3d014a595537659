"""`tidewater`: run the lifecycle, or one part of it. Errors are one line you can act on, not a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.paths import Paths

DEFAULT_SEED = 42


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidewater", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="where sources, warehouse and state live (default: data/)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="the whole lifecycle: PostgreSQL, generate, EL, dbt build, docs")
    run.add_argument("--scale", type=float, default=1.0, help="1 = 10k customers, 100k orders, 1M events")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED)
    run.add_argument("--no-docs", action="store_true", help="skip dbt docs generate and the Elementary report")
    run.add_argument(
        "--anomaly",
        choices=["half_orders_day", "new_column", "bot_spike"],
        help="inject one deliberate anomaly into the sources (to see the observability tests flag it)",
    )
    run.add_argument(
        "--days",
        type=int,
        default=0,
        help="first move the sources N business days on (new orders, updates, deletes, late events), then run "
        "incrementally",
    )
    run.add_argument(
        "--full-refresh", action="store_true", help="rebuild every incremental mart from raw (dbt --full-refresh)"
    )
    run.add_argument(
        "--schema-change-day",
        type=int,
        default=2,
        help="the advanced day on which orders gain a column and events a field (0: never; default 2)",
    )

    pg = commands.add_parser("pg", help="the embedded PostgreSQL holding the app database")
    pg.add_argument("action", choices=["start", "stop", "status"])

    generate = commands.add_parser("generate", help="write the sources (PostgreSQL must be up: `tidewater pg start`)")
    generate.add_argument("--scale", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=DEFAULT_SEED)

    commands.add_parser(
        "deps", help="install dbt packages: from the hub, else from the mirror in TIDEWATER_DBT_PACKAGE_MIRROR"
    )

    commands.add_parser("report", help="Elementary's observability report (one HTML file)")
    commands.add_parser("alerts", help="send Elementary's alerts to the webhook in TIDEWATER_ALERT_WEBHOOK")

    commands.add_parser("summary", help="rows per layer in the warehouse")
    commands.add_parser(
        "reconcile", help="snapshot the sources' keys and totals into the warehouse (after a `meltano run el` by hand)"
    )

    from tidewater.review import cli as review_cli

    review_cli.add_commands(commands)
    from tidewater.bench import cli as bench_cli

    bench_cli.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    paths = Paths.from_env(args.data_dir)
    try:
        if args.command == "run":
            from tidewater.orchestrate import pipeline

            report = pipeline.run(
                paths,
                seed=args.seed,
                scale=args.scale,
                docs=not args.no_docs,
                anomaly=args.anomaly,
                days=args.days,
                full_refresh=args.full_refresh,
                schema_change_day=args.schema_change_day,
            )
            pipeline.print_summary(paths, report)
        elif args.command == "pg":
            from tidewater.generate.postgres import PostgresServer
            from tidewater.orchestrate import pipeline

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
        elif args.command == "reconcile":
            from tidewater.generate.postgres import PostgresServer
            from tidewater.orchestrate import audit

            server = PostgresServer(paths.postgres_dir)
            started = not server.is_running()
            connection = server.start() if started else server.connection()
            try:
                counts, problems = audit.snapshot_sources(
                    connection.conninfo, paths.landing_dir / "events", paths.warehouse
                )
            finally:
                if started:
                    server.stop()
            print("source snapshot written to audit.*: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            for problem in problems:
                print(f"warning: no source total for {problem}", file=sys.stderr)
        elif args.command == "generate":
            from tidewater.generate.postgres import PostgresServer
            from tidewater.orchestrate import pipeline

            server = PostgresServer(paths.postgres_dir)
            if not server.is_running():
                raise TidewaterError("PostgreSQL is not running: start it with `tidewater pg start`")
            pipeline.generate_sources(paths, server.connection(), args.seed, args.scale)
        elif args.command == "deps":
            from tidewater.orchestrate import dbt_packages, elementary
            from tidewater.orchestrate.paths import venv_tool

            for line in dbt_packages.deps(paths.project_root, venv_tool("dbt")):
                print(line)
            for line in dbt_packages.edr_deps(elementary.edr_project_dir()):
                print("edr: " + line)
        elif args.command in ("report", "alerts"):
            import subprocess

            from tidewater.orchestrate import elementary

            if args.command == "report":
                command = elementary.report_command(paths)
            else:
                webhook = elementary.alert_webhook()
                if not webhook:
                    raise TidewaterError(
                        f"no webhook configured: set {elementary.WEBHOOK_ENV} or alert_webhook in "
                        f"{elementary.config_file()}"
                    )
                command = elementary.monitor_command(paths, webhook)
            environment = elementary.env(paths, read_only=args.command == "report")
            result = subprocess.run(command, env=environment, cwd=paths.project_root, check=False)
            if result.returncode != 0:
                raise TidewaterError(f"`edr {command[1]}` failed (exit {result.returncode})")
            if args.command == "report":
                print(f"report: {elementary.report_file(paths)}")
        elif args.command in ("check-models", "slim-ci", "data-diff"):
            from tidewater.review import cli as review_cli

            return review_cli.run(args, paths)
        elif args.command == "bench":
            from tidewater.bench import cli as bench_cli

            return bench_cli.run(args, paths)
        elif args.command == "summary":
            from tidewater.orchestrate import warehouse

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
