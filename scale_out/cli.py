"""`tidewater build --target postgres`: the same dbt project built on another engine, from the lake."""

from __future__ import annotations

import click

from tidewater.orchestrate.settings import Settings


@click.command(
    "build",
    help="Build the dbt project on another engine than DuckDB, from the lake the last run wrote: every seed, model, "
    "snapshot and test (docs/scale-out.md).",
)
@click.option("--target", "engine", type=click.Choice(["postgres"]), required=True, help="profiles.yml's target.")
@click.pass_obj
def build(settings: Settings, engine: str) -> None:
    from tidewater.generate.postgres import PostgresServer
    from tidewater.scale_out import postgres

    server = PostgresServer(settings.postgres_dir)
    started = not server.is_running()
    connection = server.start() if started else server.connection()
    try:
        click.echo(f"==> dbt build --target {engine}, from the lake ({settings.lake_dir})")
        built = postgres.build(settings, connection)
    finally:
        if started:
            server.stop()
    rows = sum(built.loaded.values())
    click.echo(f"    lake loaded: {len(built.loaded)} tables, {rows:,} rows in {built.load_seconds:.1f} s")
    click.echo(f"    dbt build: {built.nodes} nodes in {built.build_seconds:.1f} s; log: {built.log_file}")
    click.echo(
        f"    database `{postgres.DATABASE}` on the data folder's PostgreSQL (`tidewater pg start`); "
        f"role {postgres.READER} reads marts and metrics"
    )
