"""`tidewater bench`: for each scale, REPEATS fresh runs of the lifecycle (each in its own new data folder: the
sources are generated again, the warehouse starts empty), timed from Dagster's record of each run; then dlt and
DuckDB's readers on the same sources; then, on the same folder, a run that finds nothing new, an incremental day and a
full refresh. Writes bench.json and bench.md under OUT/<timestamp>/, with issue 20's goals and whether each is met."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings
from tidewater.scale_out import ENGINES

DEFAULT_SCALES = "0.1,1,10"


def say(message: str = "") -> None:
    click.echo(message)


def _scales(context: click.Context | None, parameter: object, text: str) -> list[float]:
    try:
        scales = [float(part) for part in text.replace(" ", ",").split(",") if part]
    except ValueError as exc:
        raise click.BadParameter(f"scales are numbers separated by commas: {text!r}") from exc
    if not scales or any(scale <= 0 for scale in scales):
        raise click.BadParameter(f"scales must be positive: {text!r}")
    return sorted(set(scales))


def _competitors(context: click.Context | None, parameter: object, text: str) -> list[str]:
    from tidewater.bench.competitors import COMPETITORS

    names = [part for part in text.replace(" ", ",").split(",") if part and part != "none"]
    unknown = sorted(set(names) - set(COMPETITORS))
    if unknown:
        raise click.BadParameter(f"unknown competitor(s) {unknown}: choose from {sorted(COMPETITORS)} or none")
    return [name for name in COMPETITORS if name in names]


def one_repeat(
    run_dir: Path,
    scale: float,
    seed: int,
    *,
    competitors_to_run: list[str],
    with_incremental: bool,
    targets: list[str],
) -> dict[str, Any]:
    from tidewater.bench import competitors, incremental, sources, stages
    from tidewater.generate.postgres import PostgresServer
    from tidewater.scale_out import build

    data = Settings.load(run_dir / "data")
    record: dict[str, Any] = {"scale": scale}
    say(f"    tidewater run --scale {scale} (log: {run_dir / 'run.log'})")
    record.update(stages.run_pipeline(data, scale, seed, run_dir / "run.log"))
    record["dbt"] = stages.dbt_internals(data, record["stages"]["dbt build"]["seconds"])
    server = PostgresServer(data.postgres_dir)
    connection = server.start()
    try:
        record["sources"] = sources.source_rows(connection.conninfo, data.landing_dir)
        record["competitors"] = {}
        for name in competitors_to_run:
            say(f"    {name} on the same sources")
            run = competitors.run_competitor(
                name, connection.conninfo, data.landing_dir, run_dir / "competitors", record["sources"]
            )
            record["competitors"][name] = run.__dict__
            for problem in ([run.error] if run.error else []) + run.mismatches:
                say(f"    !!! {problem}")
        record["engines"] = {}
        for engine in targets:
            say(f"    dbt build --target {engine}, from the lake")
            built = build.build(data, engine, quiet=True)
            record["engines"][engine] = {
                "lake load seconds": built.load_seconds,
                "dbt build seconds": built.build_seconds,
                "nodes": built.nodes,
            }
    finally:
        server.stop()
    loaded = {source: record["stages"][stages.load_stage(source)]["rows"] for source in record["sources"]}
    record["meltano_mismatches"] = [
        f"Meltano loaded {loaded[source]} {source} rows, the source has {rows}"
        for source, rows in record["sources"].items()
        if loaded[source] != rows
    ]
    for problem in record["meltano_mismatches"]:
        say(f"    !!! {problem}")
    if with_incremental:
        say("    nothing new, an incremental day, a full refresh")
        record["incremental"] = incremental.run_incremental(data, scale, seed, run_dir)
    return record


def write_results(
    out: Path, records: list[dict[str, Any]], options: dict[str, Any], has_incremental: bool, seconds: float
) -> dict[str, Any]:
    """bench.json and bench.md from the repeats so far (rewritten after each: an interrupted bench keeps them)."""
    from tidewater.bench import report

    document = report.build(
        records,
        scales=sorted({record["scale"] for record in records}),
        repeats=options["repeats"],
        seed=options["seed"],
        sources=options["sources"],
        incremental_available=has_incremental,
        incremental_run=options["incremental"],
        competitors_run=options["competitors"],
        targets=options["targets"],
        seconds=seconds,
    )
    (out / "bench.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    (out / "bench.md").write_text(report.markdown(document))
    return document


@click.command(help=__doc__)
@click.option("--scales", callback=_scales, default=DEFAULT_SCALES, show_default=True, help="Comma-separated scales.")
@click.option("--repeats", type=int, default=3, show_default=True, help="Runs per scale; the report gives the median.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Where each bench writes (default: DATA/bench)."
)
@click.option(
    "--competitors",
    callback=_competitors,
    default="dlt,duckdb",
    show_default=True,
    help="Which to run on the same sources, comma-separated, or none; dlt takes ~50 min at scale 10, DuckDB's "
    "readers under a minute.",
)
@click.option("--skip-competitors", is_flag=True, help="No dlt and no DuckDB readers (--competitors none).")
@click.option(
    "--skip-incremental",
    is_flag=True,
    help="No run with nothing new, incremental day and full refresh after each repeat (three runs less).",
)
@click.option(
    "--target",
    "targets",
    type=click.Choice(ENGINES),
    multiple=True,
    help="After each full run, also build the project on this engine from the lake (docs/scale-out.md).",
)
@click.option("--keep-data", is_flag=True, help="Keep each repeat's data folder (large at scale 10).")
@click.pass_obj
def bench(
    settings: Settings,
    scales: list[float],
    repeats: int,
    seed: int,
    out: Path | None,
    competitors: list[str],
    skip_competitors: bool,
    skip_incremental: bool,
    targets: tuple[str, ...],
    keep_data: bool,
) -> int:
    from tidewater.bench import competitors as rivals
    from tidewater.bench import incremental, report
    from tidewater.orchestrate.sources import meltano_sources

    if skip_competitors:
        competitors = []
    if repeats < 1:
        raise TidewaterError("--repeats must be at least 1")
    if competitors:
        rivals.bench_python()  # fail now, not after the first run
    has_incremental = incremental.available()
    options: dict[str, Any] = {
        "repeats": repeats,
        "seed": seed,
        "competitors": competitors,
        "sources": [source.name for source in meltano_sources()],
        "incremental": has_incremental and not skip_incremental,
        "targets": list(targets),
    }
    out = (out or settings.data_dir / "bench").resolve() / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    say(f"==> bench: scales {', '.join(f'{s:g}' for s in scales)}, {repeats} repeat(s) each, into {out}")
    if not has_incremental:
        say("    incremental day vs full refresh: not available (`tidewater run` has no --days/--full-refresh)")
    records: list[dict[str, Any]] = []
    started = time.monotonic()
    for scale in scales:
        for repeat in range(1, repeats + 1):
            say(f"==> scale {scale:g}, repeat {repeat} of {repeats}")
            run_dir = out / "runs" / f"scale-{scale:g}-repeat-{repeat}"
            t = time.monotonic()
            record = one_repeat(
                run_dir,
                scale,
                seed,
                competitors_to_run=competitors,
                with_incremental=options["incremental"],
                targets=options["targets"],
            )
            record["repeat"] = repeat
            records.append(record)
            say(f"    done in {time.monotonic() - t:.0f} s")
            if not keep_data:
                shutil.copytree(run_dir / "data" / "logs", run_dir / "logs", dirs_exist_ok=True)
                shutil.rmtree(run_dir / "data", ignore_errors=True)
            document = write_results(out, records, options, has_incremental, time.monotonic() - started)
    say()
    for line in report.summary(document):
        say(line)
    say(f"  {out / 'bench.md'}\n  {out / 'bench.json'}")
    problems = document["problems"]
    if problems:
        say(f"!!! {len(problems)} problem(s): wrong row counts or failed loads; no figure is reported for those")
        return 1
    return 0
