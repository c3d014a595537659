"""Command line: `python -m tidewater.generate --scale 0.01 --seed 42 --landing-dir DIR --pg-url URL
[--anomaly NAME]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import ANOMALIES, GenerationConfig

EXIT_USAGE = 2


def _where(conninfo: str) -> str:
    """host:port (or the socket folder) of a connection string, for error messages; never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(conninfo)
    except Exception:
        return "the given --pg-url"
    host = str(params.get("host") or "localhost")
    port = str(params.get("port") or "5432")
    return f"{host}:{port}" if not host.startswith("/") else f"socket {host} port {port}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tidewater.generate",
        description="Generate the Saltbox Home sources: PostgreSQL app database, web-event JSON lines and "
        "the marketing spend CSV. The same seed and scale give byte-identical files and identical rows.",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10k customers, 100k orders (default 1.0)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--landing-dir",
        type=Path,
        default=Path("data/landing"),
        help="landing zone folder (default data/landing)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TIDEWATER_PG_URL"),
        help="PostgreSQL URL of the app database, e.g. postgresql://user:pass@127.0.0.1:5432/saltbox "
        "(default: $TIDEWATER_PG_URL)",
    )
    parser.add_argument("--skip-db", action="store_true", help="write the files only, leave the database alone")
    parser.add_argument(
        "--force-reload", action="store_true", help="reload the database even if it holds this generation"
    )
    parser.add_argument(
        "--anomaly",
        metavar="NAME",
        choices=ANOMALIES,
        default=None,
        help="inject one deliberate anomaly for observability tests: half_orders_day (half the orders of the "
        "last day never happened), new_column (orders.gift_message appears), bot_spike (10x bot traffic on "
        "the last day). Default: none",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = GenerationConfig(seed=args.seed, scale=args.scale, anomaly=args.anomaly)
    except ValueError as exc:
        parser.error(str(exc))
    conninfo = None if args.skip_db else args.pg_url
    if conninfo is None and not args.skip_db:
        parser.error("no database given: pass --pg-url (or set TIDEWATER_PG_URL), or --skip-db for files only")

    import psycopg

    from .run import generate

    try:
        if conninfo is not None:  # fail fast, before minutes of generation
            psycopg.connect(conninfo, connect_timeout=10).close()
        summary = generate(config, args.landing_dir, conninfo, force_reload=args.force_reload)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: cannot connect to PostgreSQL at {_where(conninfo or '')}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: PostgreSQL refused the load at {_where(conninfo or '')}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: cannot write the landing zone {args.landing_dir}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
