"""The source systems: the generator writes them (a year of history), then moves them on to the business day being
materialized. One asset per system, so the graph starts where the data starts."""

import json
import shutil
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, MaterializeResult, multi_asset

from tidewater.generate import GenerationConfig, generate
from tidewater.generate import advance as time_moves
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import business_days, day_index, one_run
from tidewater.orchestrate.settings import Settings

DEFAULT_SEED = 42
DEFAULT_SCALE = 1.0

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
    record = settings.data_dir / "run-parameters.json"
    previous = json.loads(record.read_text()) if record.exists() else {}
    seed = config.seed if config.seed is not None else previous.get("seed", DEFAULT_SEED)
    scale = config.scale if config.scale is not None else previous.get("scale", DEFAULT_SCALE)
    try:
        return GenerationConfig(seed=seed, scale=scale, anomaly=config.anomaly)
    except ValueError as exc:
        raise TidewaterError(f"invalid generation settings: {exc}") from exc


def reset_if_parameters_changed(settings: Settings, generation: GenerationConfig, log: Any) -> None:
    """A new seed or scale makes different sources: start the warehouse and the load state from scratch, so no row
    of the old sources lingers. The same seed and scale keep everything (a rerun changes nothing)."""
    record = settings.data_dir / "run-parameters.json"
    wanted = {"seed": generation.seed, "scale": generation.scale}
    if record.exists() and json.loads(record.read_text()) != wanted:
        previous = json.loads(record.read_text())
        log.info(
            f"sources change (seed {previous['seed']} scale {previous['scale']} -> seed {generation.seed} "
            f"scale {generation.scale}): clearing the landing zone, the warehouse and Meltano's state"
        )
        for path in (settings.landing_dir, settings.meltano_state_dir):
            shutil.rmtree(path, ignore_errors=True)
        for path in (settings.warehouse, settings.warehouse.with_name(settings.warehouse.name + ".wal")):
            path.unlink(missing_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(wanted) + "\n")


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
