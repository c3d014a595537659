"""`tidewater`: run the lifecycle, or one part of it. Errors are one line you can act on, not a traceback."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from tidewater.generate.advance import SCHEMA_CHANGE_DAY
from tidewater.generate.config import ANOMALIES, combined_anomaly
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where sources, warehouse and state live (default: data/, or TIDEWATER_DATA_DIR).",
)
@click.pass_context
def cli(context: click.Context, data_dir: Path | None) -> None:
    context.obj = Settings.load(data_dir)


pass_settings = click.make_pass_decorator(Settings)


@cli.command(help="The whole lifecycle: PostgreSQL, generate, extract+load, dbt build with freshness, docs, report.")
@click.option(
    "--scale", type=float, help="1 = 10k customers, 100k orders, 1M events (default: the data folder's, else 1)."
)
@click.option("--seed", type=int, help="Random seed (default: the data folder's, else 42).")
@click.option("--no-docs", is_flag=True, help="Skip the dbt docs and Elementary's report.")
@click.option("--no-sync", is_flag=True, help="Skip the reverse ETL sync of the audiences (the CRM and the webhook).")
@click.option(
    "--anomaly",
    type=click.Choice(ANOMALIES),
    multiple=True,
    help="Inject a deliberate anomaly into the sources (to see the observability tests flag it); repeat for several.",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="First move the sources N business days on (new orders, updates, deletes, late events), then run "
    "incrementally.",
)
@click.option("--full-refresh", is_flag=True, help="Rebuild every incremental mart from raw (dbt --full-refresh).")
@click.option(
    "--schema-change-day",
    type=int,
    default=SCHEMA_CHANGE_DAY,
    show_default=True,
    help="The advanced day on which orders gain a column and events a field (0: never).",
)
@pass_settings
def run(
    settings: Settings,
    scale: float | None,
    seed: int | None,
    no_docs: bool,
    no_sync: bool,
    anomaly: tuple[str, ...],
    days: int,
    full_refresh: bool,
    schema_change_day: int,
) -> None:
    from tidewater.orchestrate import runner

    summary = runner.run(
        settings,
        seed=seed,
        scale=scale,
        docs=not no_docs,
        sync=not no_sync,
        anomaly=combined_anomaly(anomaly),
        days=days,
        full_refresh=full_refresh,
        schema_change_day=schema_change_day,
    )
    runner.print_summary(settings, summary)


@cli.command(help="The Dagster UI on 127.0.0.1 (runs, asset graph, checks, schedules), with its daemon.")
@click.option("--port", type=int, help="Default: 3000 (TIDEWATER_UI_PORT).")
@pass_settings
def ui(settings: Settings, port: int | None) -> None:
    from tidewater.orchestrate import ui as dagster_ui

    dagster_ui.serve(settings, port or settings.ui_port)


@cli.command(help="The dashboards on 127.0.0.1 (Streamlit), over the serving copy the last run promoted.")
@click.option("--port", type=int, help="Default: 8501 (TIDEWATER_DASHBOARDS_PORT).")
@pass_settings
def dashboards(settings: Settings, port: int | None) -> None:
    import os

    from tidewater.orchestrate import commands
    from tidewater.serve import dashboards as streamlit_app
    from tidewater.serve import published

    published.current_database(settings)  # one clear line before the first run, not an empty page
    port = port or settings.dashboards_port
    click.echo(f"==> dashboards on http://127.0.0.1:{port} (Ctrl-C stops them)")
    commands.foreground(streamlit_app.command(settings, port), env={**os.environ, **settings.env()})


@cli.command(help="The suppliers' read-only API on 127.0.0.1 (FastAPI), over the serving copy the last run promoted.")
@click.option("--port", type=int, help="Default: 8000 (TIDEWATER_API_PORT).")
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another token store than the data folder's (TIDEWATER_API_TOKENS_FILE; the tests and the bench).",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="uvicorn's processes.")
@click.option("--no-access-log", is_flag=True, help="No line per request (the latency bench).")
@pass_settings
def serve(settings: Settings, port: int | None, tokens_file: Path | None, workers: int, no_access_log: bool) -> None:
    import os

    import uvicorn

    from tidewater.serve import published

    if tokens_file:
        settings = settings.model_copy(update={"api_tokens_file": tokens_file.resolve()})
    published.current_database(settings)  # one clear line before the first run
    port = port or settings.api_port
    click.echo(f"==> suppliers' API on http://127.0.0.1:{port}/v1/me (Ctrl-C stops it)")
    # Each worker process uvicorn starts builds the app from the environment: the data folder and the token store.
    os.environ.update(settings.env())
    uvicorn.run(
        "tidewater.serve.api.app:app_from_environment",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=not no_access_log,
        server_header=False,
    )


@cli.command(help="The embedded PostgreSQL holding the app database.")
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
@pass_settings
def pg(settings: Settings, action: str) -> None:
    from tidewater.generate.postgres import PostgresServer
    from tidewater.orchestrate.meltano import write_env_file

    server = PostgresServer(settings.postgres_dir)
    if action == "start":
        connection = server.start()
        write_env_file(settings, connection)
        click.echo(f"PostgreSQL listening on 127.0.0.1:{connection.port} (database {connection.database});")
        click.echo(f"connection written to {settings.env_file}" + (" and .env" if settings.is_default else ""))
    elif action == "stop":
        click.echo("PostgreSQL stopped" if server.stop() else "PostgreSQL was not running")
    else:
        click.echo("running" if server.is_running() else "stopped")


@cli.command(help="Install the dbt packages: from the hub, else from the mirror you configured (README).")
@pass_settings
def deps(settings: Settings) -> None:
    from tidewater.orchestrate import dbt_packages, elementary
    from tidewater.orchestrate.settings import venv_tool

    for line in dbt_packages.deps(settings, settings.project_root, venv_tool("dbt")):
        click.echo(line)
    for line in dbt_packages.edr_deps(settings, elementary.edr_project_dir()):
        click.echo("edr: " + line)


@cli.command(help="Elementary's observability report (one HTML file).")
@pass_settings
def report(settings: Settings) -> None:
    from tidewater.orchestrate import elementary

    click.echo(f"report: {elementary.report(settings)}")


@cli.command(help="Send Elementary's alerts to the webhook (TIDEWATER_ALERT_WEBHOOK or alert_webhook in the config).")
@pass_settings
def alerts(settings: Settings) -> None:
    from tidewater.orchestrate import elementary
    from tidewater.orchestrate.settings import config_file

    if not settings.alert_webhook:
        raise TidewaterError(f"no webhook configured: set TIDEWATER_ALERT_WEBHOOK or alert_webhook in {config_file()}")
    elementary.monitor(settings, settings.alert_webhook)


@cli.command(help="Rows per layer in the warehouse.")
@pass_settings
def summary(settings: Settings) -> None:
    from tidewater.orchestrate import runner, warehouse

    counts = warehouse.table_counts(settings.warehouse)
    for layer, relations, rows in warehouse.rows_per_layer(counts, runner.layers(settings)):
        click.echo(f"{layer:<20} {relations:>3} relations {rows:>12,} rows")


@cli.command(help="Snapshot the sources' keys and totals into the warehouse (after a `meltano run el` by hand).")
@pass_settings
def reconcile(settings: Settings) -> None:
    from tidewater.generate.postgres import PostgresServer
    from tidewater.orchestrate import audit

    with PostgresServer(settings.postgres_dir).running() as connection:
        counts, problems = audit.snapshot_sources(
            connection.conninfo, settings.landing_dir / "events", settings.warehouse
        )
    click.echo("source snapshot written to audit.*: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    for problem in problems:
        click.echo(f"warning: no source total for {problem}", err=True)


def _add_stage_commands() -> None:
    """The other stages' commands, each defined beside its code."""
    from tidewater.bench.api_latency import bench_api
    from tidewater.bench.cli import bench
    from tidewater.generate.cli import generate
    from tidewater.privacy.cli import forget
    from tidewater.review.cli import check_models, data_diff, slim_ci
    from tidewater.scale_out.cli import build
    from tidewater.serve.api.cli import api_token
    from tidewater.serve.ml.cli import features
    from tidewater.serve.reverse_etl.cli import sync_command

    for command in (
        generate,
        check_models,
        slim_ci,
        data_diff,
        bench,
        bench_api,
        api_token,
        forget,
        features,
        sync_command,
        build,
    ):
        cli.add_command(command)


_add_stage_commands()


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (a killed container, `kill`) stops a command as Ctrl-C does: through its cleanup (PostgreSQL stopped,
    # the tools it started stopped), not mid-step with its children orphaned.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        result = cli.main(args=argv, prog_name="tidewater", standalone_mode=False)
    except TidewaterError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        if not _from_a_data_system(exc):
            raise  # a bug in Tidewater itself: its traceback is what a report needs
        # A database's or the file system's error that no command turned into a TidewaterError: still one line,
        # named by the error's type.
        first = (str(exc).strip().splitlines() or [""])[0]
        click.echo(f"error: {type(exc).__module__.split('.')[0]}.{type(exc).__name__}: {first}", err=True)
        return 2
    return result if isinstance(result, int) else 0


def _from_a_data_system(exc: Exception) -> bool:
    import duckdb
    import psycopg

    return isinstance(exc, psycopg.Error | duckdb.Error | OSError)


if __name__ == "__main__":
    sys.exit(main())
