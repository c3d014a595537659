"""`tidewater build --target postgres|spark`: the same dbt project built on another engine, from the lake."""

from __future__ import annotations

import click

from tidewater.orchestrate.settings import Settings
from tidewater.scale_out import ENGINES

WHERE = {
    "postgres": "database `warehouse` on the data folder's PostgreSQL (`tidewater pg start`); role warehouse_reader "
    "reads marts and metrics",
    "spark": "Spark's tables in the data folder's spark/ (warehouse/ and its Derby metastore)",
}


@click.command(
    "build",
    help="Build the dbt project on another engine than DuckDB, from the lake the last run wrote: every seed, model, "
    "snapshot and test that engine can run (README, docs/scale-out.md).",
)
@click.option("--target", "engine", type=click.Choice(ENGINES), required=True, help="profiles.yml's target.")
@click.pass_obj
def build(settings: Settings, engine: str) -> None:
    from tidewater.scale_out import build as engines

    click.echo(f"==> dbt build --target {engine}, from the lake ({settings.lake_dir})")
    built = engines.build(settings, engine)
    rows = sum(built.loaded.values())
    click.echo(f"    lake as raw: {len(built.loaded)} tables, {rows:,} rows in {built.load_seconds:.1f} s")
    click.echo(f"    dbt build: {built.nodes} nodes in {built.build_seconds:.1f} s; log: {built.log_file}")
    click.echo(f"    {WHERE[engine]}")
