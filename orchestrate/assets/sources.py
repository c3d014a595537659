"""The source systems: the generator writes them (a year of history), then moves them on to the business day being
materialized. One asset per system, so the graph starts where the data starts."""

import shutil
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, MaterializeResult, multi_asset

from tidewater.generate import GenerationConfig, generate
from tidewater.generate import advance as time_moves
from tidewater.generate.config import folder_generation
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import business_days, day_index, one_run
from tidewater.orchestrate.settings import Settings

# What the generator writes, by the name the warehouse gives each source (raw_<name>, meltano/*.meltano.yml).
SYSTEMS = {
    "app": "The shop's application database: customers, products, orders, lines, payments, delete tombstones "
    "(PostgreSQL, embedded, on 127.0.0.1).",
    "events": "The website's event landing zone: JSON lines, one folder per day, late arrivals in earlier days' "
    "folders (data/landing/events).",
    "marketing": "The marketing team's spend spreadsheet, typed by people (data/landing/marketing).",
}


# The systems the embedded PostgreSQL hosts: their loads need the server up.
ON_APP_DATABASE = frozenset({"app"})


def system_key(name: str) -> AssetKey:
    return AssetKey(["sources", name])


class SourcesConfig(Config):
    """What to generate. Unset values keep what the data folder was generated with (else seed 42, scale 1)."""

    seed: int | None = None
    scale: float | None = None
    anomaly: str | None = None
    schema_change_day: int = time_moves.SCHEMA_CHANGE_DAY


def generation_config(settings: Settings, config: SourcesConfig) -> GenerationConfig:
    try:
        return folder_generation(settings, config.seed, config.scale, config.anomaly)
    except ValueError as exc:
        raise TidewaterError(f"invalid generation settings: {exc}") from exc


def reset_if_parameters_changed(settings: Settings, generation: GenerationConfig, log: Any) -> None:
    """A new seed, scale or generator version makes different sources: start the warehouse and the load state from
    scratch, so no row of the old sources lingers. The same ones keep everything (a rerun changes nothing)."""
    wanted = settings.generation_record(generation.seed, generation.scale)
    previous = settings.recorded_generation()
    if previous and previous != wanted:
        log.info(
            f"sources change (seed {previous['seed']} scale {previous['scale']} generator version "
            f"{previous.get('generator', 1)} -> seed {generation.seed} scale {generation.scale} generator version "
            f"{wanted['generator']}): clearing the landing zone, the warehouse and Meltano's state"
        )
        for path in (settings.landing_dir, settings.meltano_state_dir):
            shutil.rmtree(path, ignore_errors=True)
        for path in (settings.warehouse, settings.warehouse.with_name(settings.warehouse.name + ".wal")):
            path.unlink(missing_ok=True)
    settings.record_generation(generation.seed, generation.scale)


@multi_asset(
    name="generate_sources",
    specs=[
        AssetSpec(system_key(name), description=text, group_name="sources", kinds={"python"})
        for name, text in SYSTEMS.items()
    ],
    partitions_def=business_days,
    backfill_policy=one_run,
)
def generate_sources(
    context: AssetExecutionContext, config: SourcesConfig, app_database: AppDatabase
) -> Iterator[MaterializeResult]:
    """The year of history (written once; unchanged files and rows are left alone), then the business days up to
    the last one materialized. Sources never move back: a day already passed is loaded and built as it is."""
    settings = Settings.load()
    generation = generation_config(settings, config)
    reset_if_parameters_changed(settings, generation, context.log)
    connection = app_database.connection()
    context.log.info(
        f"generating the sources (seed {generation.seed}, scale {generation.scale}"
        + (f", anomaly {generation.anomaly}" if generation.anomaly else "")
        + ")"
    )
    summary = generate(generation, settings.landing_dir, connection.conninfo)
    for line in summary.lines():
        context.log.info(line)
    target = day_index(context.partition_key_range.end)
    done = time_moves.days_advanced(connection.conninfo)
    if target > done:
        for entry in time_moves.advance(
            generation,
            settings.landing_dir,
            connection.conninfo,
            target - done,
            schema_change_day=config.schema_change_day,
        ):
            counts = entry["counts"]
            context.log.info(
                f"day {entry['day']} ({entry['date']}): {counts['new_orders']} new orders, "
                f"{counts['status_updates']} status updates, {counts['refunds']} refunds, "
                f"{counts['soft_deleted_customers']} accounts closed, {counts['erased_customers']} erased, "
                f"{counts['purged_duplicate_orders']} duplicate orders purged, {counts['event_lines']} event lines "
                f"in {counts['event_files']} files ({counts['late_event_files']} late)"
                + (" - schema change day" if entry["day"] == config.schema_change_day else "")
            )
    elif target < done:
        context.log.info(f"the sources are already at day {done}, past {context.partition_key_range.end}: unchanged")
    days = max(target, done)
    metadata = {"seed": generation.seed, "scale": generation.scale, "days_advanced": days}
    for name in SYSTEMS:
        yield MaterializeResult(asset_key=system_key(name), metadata=metadata)
