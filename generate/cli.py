"""`tidewater generate`: write the sources (the app database, the event landing zone, the spreadsheet). The same
seed and scale give byte-identical files and identical rows."""

from __future__ import annotations

from pathlib import Path

import click

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

from .config import ANOMALIES, GenerationConfig, combined_anomaly, folder_generation


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


def _database(settings: Settings, pg_url: str | None) -> str:
    """The app database: --pg-url (or TIDEWATER_PG_URL), else the data folder's embedded PostgreSQL if it runs."""
    if pg_url:
        return pg_url
    from .postgres import PostgresServer

    server = PostgresServer(settings.postgres_dir)
    if not server.is_running():
        raise TidewaterError(
            "PostgreSQL is not running: start it with `tidewater pg start`, pass --pg-url, or --skip-db for files only"
        )
    return server.connection().conninfo


def _refuse_a_second_generation(settings: Settings, config: GenerationConfig) -> None:
    """Sources of another seed or scale over a folder whose warehouse holds the old ones would mix the two: the
    loads are incremental, so raw would hold part of each and the reconciliation would fail with no word of why."""
    recorded = settings.recorded_generation()
    wanted = settings.generation_record(config.seed, config.scale)
    if recorded and recorded != wanted and settings.warehouse.exists():
        older = "" if recorded.get("generator", 1) == wanted["generator"] else " of an older generator"
        raise TidewaterError(
            f"this data folder holds sources{older} of seed {recorded['seed']} scale {recorded['scale']}, and a "
            f"warehouse loaded from them; generating seed {config.seed} scale {config.scale} over them would mix the "
            f"two. `tidewater run --seed {config.seed} --scale {config.scale}` starts the folder over, or give another "
            "--data-dir"
        )


@click.command(help=__doc__)
@click.option(
    "--scale", type=float, help="1 = 10k customers, 100k orders (default: the data folder's sources', else 1)."
)
@click.option("--seed", type=int, help="Random seed (default: the data folder's sources', else 42).")
@click.option(
    "--anomaly",
    type=click.Choice(ANOMALIES),
    multiple=True,
    help="Inject a deliberate anomaly for the observability tests (repeat for several): half_orders_day (half the "
    "orders of the last day never happened), new_column (orders.gift_message appears), bot_spike (10x bot traffic on "
    "the last day).",
)
@click.option(
    "--landing-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the data folder's landing/."
)
@click.option(
    "--pg-url",
    help="PostgreSQL URL of the app database (default: TIDEWATER_PG_URL, else the data folder's embedded server).",
)
@click.option("--skip-db", is_flag=True, help="Write the files only, leave the database alone.")
@click.option("--force-reload", is_flag=True, help="Reload the database even if it holds this generation.")
@click.pass_obj
def generate(
    settings: Settings,
    scale: float | None,
    seed: int | None,
    anomaly: tuple[str, ...],
    landing_dir: Path | None,
    pg_url: str | None,
    skip_db: bool,
    force_reload: bool,
) -> None:
    import psycopg

    from .run import generate as generate_sources

    try:
        config = folder_generation(settings, seed, scale, combined_anomaly(anomaly))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    landing = landing_dir or settings.landing_dir
    if landing_dir is None:
        _refuse_a_second_generation(settings, config)
    conninfo = None if skip_db else _database(settings, pg_url or settings.pg_url)
    try:
        if conninfo is not None:  # fail fast, before minutes of generation
            psycopg.connect(conninfo, connect_timeout=10).close()
        summary = generate_sources(config, landing, conninfo, force_reload=force_reload)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise TidewaterError(f"cannot connect to PostgreSQL at {_where(conninfo or '')}: {reason}") from None
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise TidewaterError(f"PostgreSQL refused the load at {_where(conninfo or '')}: {reason}") from None
    except OSError as exc:
        raise TidewaterError(f"cannot write the landing zone {landing}: {exc}") from None
    if landing_dir is None:
        settings.record_generation(config.seed, config.scale)
    for line in summary.lines():
        click.echo(line)
