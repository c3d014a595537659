"""The whole lifecycle, step by step: PostgreSQL up, generate, extract+load, dbt build, docs, PostgreSQL down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tidewater.generate import GenerationConfig, generate
from tidewater.generate import advance as time_moves
from tidewater.generate.postgres import Connection, PostgresServer
from tidewater.orchestrate import audit, elementary, warehouse
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.paths import Paths, venv_tool

# Each source's Meltano pipeline: its extractor and its own loader (they run side by side; meltano/jobs.meltano.yml).
EL_TASKS: tuple[tuple[str, str, str], ...] = (
    ("app database (PostgreSQL)", "tap-postgres", "target-duckdb-app"),
    ("event landing zone (JSON lines)", "tap-landing-zone", "target-duckdb-events"),
    ("marketing spreadsheet (CSV)", "tap-spreadsheets", "target-duckdb-marketing"),
)
# Where each extractor lands (its load_schema in meltano.yml).
RAW_SCHEMAS = {"tap-postgres": "raw_app", "tap-landing-zone": "raw_events", "tap-spreadsheets": "raw_marketing"}
# Tables a tap writes about its input rather than rows of it (tap-landing-zone's list of files).
RAW_METADATA_TABLES = frozenset({"landing_files"})


def say(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class RunReport:
    timings: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)  # wall-clock start (epoch seconds) of each timing
    el_rows: dict[str, int] = field(default_factory=dict)  # rows in each extractor's raw schema after the load
    dbt_results: dict[str, int] = field(default_factory=dict)
    rows_per_layer: list[tuple[str, int, int]] = field(default_factory=list)

    def wall_seconds(self) -> float:
        """From the first step's start to the last one's end (some steps run side by side)."""
        ends = [self.started[name] + seconds for name, seconds in self.timings.items() if name in self.started]
        return max(ends) - min(self.started.values()) if ends else 0.0


class Step:
    """Times a step and prints its start and end."""

    def __init__(self, report: RunReport, name: str) -> None:
        self.report, self.name = report, name

    def __enter__(self) -> Step:
        self.started = time.monotonic()
        self.report.started[self.name] = time.time()
        say(f"==> {self.name}")
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        elapsed = time.monotonic() - self.started
        self.report.timings[self.name] = elapsed
        if exc_type is None:
            say(f"    done in {elapsed:.1f} s")


def write_env_file(paths: Paths, connection: Connection) -> dict[str, str]:
    """Write the variables Meltano needs (paths and PostgreSQL) to the data folder's env file, and for the
    project's own data folder also to .env, so that `meltano run el` typed by hand finds the same setup."""
    env = {**paths.env(), **connection.env()}
    text = "".join(f"{key}={value}\n" for key, value in sorted(env.items()))
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    for target in [paths.env_file] + ([paths.project_root / ".env"] if paths.is_default else []):
        target.write_text(text)
        target.chmod(0o600)
    return env


def run_logged(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_file: Path,
    echo: Callable[[str], bool] | None = None,
    heartbeat: str | None = None,
    name: str | None = None,
) -> None:
    """Run a command with its output in a log file. Lines for which `echo` is true are also shown; a heartbeat
    line every 15 s shows that a long quiet step is alive. On failure: the last error lines and the log's path."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        done = threading.Event()

        def beat() -> None:
            while not done.wait(15):
                say(f"    ... {heartbeat} ({time.monotonic() - started:.0f} s)")

        if heartbeat:
            threading.Thread(target=beat, daemon=True).start()
        assert process.stdout is not None
        tail: list[str] = []
        for line in process.stdout:
            log.write(line)
            log.flush()  # the log is what a user tails during a long step
            tail = [*tail, line.rstrip()][-200:]
            if echo and echo(line):
                say("    " + line.rstrip())
        returncode = process.wait()
        done.set()
    if returncode != 0:
        words = ("ERROR", "Error", "error", "Exception")
        errors = [i for i, line in enumerate(tail) if any(word in line for word in words)]
        # From the last few error lines on, with the lines that explain them (dbt puts its message below the header).
        context = tail[errors[max(0, len(errors) - 3)] :][:10] if errors else tail[-6:]
        detail = "\n      ".join(line for line in context if line.strip())
        shown = name or " ".join(Path(part).name if part.startswith("/") else part for part in command[:4])
        raise TidewaterError(f"`{shown}` failed (exit {returncode}); log: {log_file}\n      {detail}")


def reset_if_parameters_changed(paths: Paths, seed: int, scale: float) -> None:
    """A new seed or scale makes different sources: start the warehouse and the load state from scratch, so no row
    of the old sources lingers. The same seed and scale keep everything (a rerun changes nothing)."""
    record = paths.data_dir / "run-parameters.json"
    wanted = {"seed": seed, "scale": scale}
    if record.exists() and json.loads(record.read_text()) != wanted:
        previous = json.loads(record.read_text())
        say(f"    sources change (seed {previous['seed']} scale {previous['scale']} -> seed {seed} scale {scale}):")
        say("    clearing the landing zone, the warehouse and Meltano's state")
        for path in (paths.landing_dir, paths.warehouse.parent, paths.meltano_state_dir):
            shutil.rmtree(path, ignore_errors=True)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(wanted) + "\n")


def generation_config(seed: int, scale: float, anomaly: str | None = None) -> GenerationConfig:
    try:
        return GenerationConfig(seed=seed, scale=scale, anomaly=anomaly)
    except ValueError as exc:
        raise TidewaterError(f"invalid generation settings: {exc}") from exc


def generate_sources(paths: Paths, connection: Connection, seed: int, scale: float, anomaly: str | None = None) -> None:
    summary = generate(generation_config(seed, scale, anomaly), paths.landing_dir, connection.conninfo)
    for line in str(summary).splitlines():
        say("    " + line)


def advance_sources(paths: Paths, connection: Connection, config: GenerationConfig, days: int, schema_day: int) -> None:
    for entry in time_moves.advance(config, paths.landing_dir, connection.conninfo, days, schema_change_day=schema_day):
        counts = entry["counts"]
        say(
            f"    day {entry['day']} ({entry['date']}): {counts['new_orders']} new orders, "
            f"{counts['status_updates']} status updates, {counts['refunds']} refunds, "
            f"{counts['soft_deleted_customers']} accounts closed, {counts['erased_customers']} erased, "
            f"{counts['purged_duplicate_orders']} duplicate orders purged, {counts['event_lines']} event lines "
            f"in {counts['event_files']} files ({counts['late_event_files']} late)"
            + (" - schema change day" if entry["day"] == schema_day else "")
        )


def business_now_env(connection: Connection, config: GenerationConfig) -> dict[str, str]:
    """The business "now" the marts and anomaly tests are judged at: the end of the last generated day."""
    if os.environ.get("TIDEWATER_BUSINESS_NOW"):
        return {}
    days = time_moves.days_advanced(connection.conninfo)
    return {"TIDEWATER_BUSINESS_NOW": time_moves.business_now(config, days).strftime("%Y-%m-%dT%H:%M:%S")}


def side_by_side(*steps: Callable[[], None]) -> None:
    """Run the steps at once, each to its end even when another fails; then raise their failures together."""
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        running = [pool.submit(step) for step in steps]
        failures = [str(error) for error in (future.exception() for future in running) if error is not None]
    if failures:
        raise TidewaterError("\n    ".join(failures))


def extract_load(paths: Paths, env: dict[str, str], report: RunReport) -> None:
    """Every source's Meltano pipeline at once: the taps read side by side, and their loaders take turns on the
    warehouse (each opens it only to merge a batch). A failed pipeline does not stop the others; once all have ended,
    the failures are reported together."""
    # Batch files a killed load left behind: their state was never emitted, so the tap writes those lines again.
    shutil.rmtree(paths.batches_dir, ignore_errors=True)
    side_by_side(*(partial(_extract_load_one, paths, env, report, *task) for task in EL_TASKS))
    counts = warehouse.table_counts(paths.warehouse, tuple(RAW_SCHEMAS.values()))
    for extractor, schema in RAW_SCHEMAS.items():
        tables = counts.get(schema, {})
        report.el_rows[f"el {extractor}"] = sum(n for table, n in tables.items() if table not in RAW_METADATA_TABLES)


def _extract_load_one(
    paths: Paths, env: dict[str, str], report: RunReport, label: str, extractor: str, loader: str
) -> None:
    started = time.monotonic()
    report.started[f"el {extractor}"] = time.time()
    # --refresh-catalog: discover the source again, so a column added upstream is extracted (and reaches raw).
    # --force: a run killed earlier leaves its job marked running; the run lock already keeps runs apart.
    run_logged(
        [
            venv_tool("meltano"),
            "--env-file",
            str(paths.env_file),
            "--log-level",
            "info",
            "run",
            "--refresh-catalog",
            "--force",
            extractor,
            loader,
        ],
        env=env,
        cwd=paths.project_root,
        log_file=paths.logs_dir / f"el-{extractor}.log",
        heartbeat=f"loading {label}",
        name=f"meltano run {extractor} {loader}",
    )
    elapsed = time.monotonic() - started
    report.timings[f"el {extractor}"] = elapsed
    say(f"    {label}: {elapsed:.1f} s")


def dbt(paths: Paths, env: dict[str, str], *args: str, log_name: str, echo_all: bool = True) -> None:
    def progress(line: str) -> bool:
        return echo_all and (" of " in line or "Done." in line or "WARN" in line or "ERROR" in line)

    run_logged(
        [venv_tool("dbt"), *args],
        env=env,
        cwd=paths.project_root,
        log_file=paths.logs_dir / f"{log_name}.log",
        echo=progress,
    )


def keep_build_results(paths: Paths) -> dict[str, int]:
    """Keep the build's run_results.json (`dbt docs generate` overwrites it) and count results by kind and status."""
    results_file = paths.dbt_target_dir / "run_results.json"
    counts: dict[str, int] = {}
    if results_file.exists():
        paths.build_results_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results_file, paths.build_results_file)
        for result in json.loads(results_file.read_text())["results"]:
            kind = result["unique_id"].split(".")[0]
            key = f"{kind} {result['status']}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def docs_and_report(paths: Paths, env: dict[str, str], report: RunReport) -> None:
    """The docs and Elementary's report only read the warehouse: both open it read-only and run side by side.
    Then, when a webhook is configured, Elementary's alerts (edr monitor records what it sent, so it writes)."""
    side_by_side(
        partial(_docs, paths, {**env, warehouse.READ_ONLY_VARIABLE: "1"}, report),
        partial(_elementary_report, paths, report),
    )
    webhook = elementary.alert_webhook()
    if webhook:
        with Step(report, "Elementary alerts (edr monitor)"):
            run_logged(
                elementary.monitor_command(paths, webhook),
                env=elementary.env(paths),
                cwd=paths.project_root,
                log_file=paths.logs_dir / "edr-monitor.log",
            )


def _docs(paths: Paths, env: dict[str, str], report: RunReport) -> None:
    with Step(report, "dbt docs generate --static"):
        dbt(paths, env, "docs", "generate", "--static", log_name="dbt-docs", echo_all=False)


def _elementary_report(paths: Paths, report: RunReport) -> None:
    """Elementary's report: one self-contained HTML file."""
    with Step(report, "Elementary report (edr report)"):
        run_logged(
            elementary.report_command(paths),
            env=elementary.env(paths, read_only=True),
            cwd=paths.project_root,
            log_file=paths.logs_dir / "edr-report.log",
            heartbeat="building the Elementary report",
        )
        say(f"    {elementary.report_file(paths)} ({elementary.report_file(paths).stat().st_size / 1e6:.1f} MB)")


def run(
    paths: Paths,
    *,
    seed: int,
    scale: float,
    docs: bool = True,
    anomaly: str | None = None,
    days: int = 0,
    full_refresh: bool = False,
    schema_change_day: int = time_moves.SCHEMA_CHANGE_DAY,
) -> RunReport:
    """The whole lifecycle, holding the warehouse's run lock throughout."""
    config = generation_config(seed, scale, anomaly)  # bad settings fail before anything starts
    if days < 0:
        raise TidewaterError(f"--days must be 0 or more, got {days}")
    with warehouse.run_lock(paths.warehouse):
        return _run(paths, config, docs=docs, days=days, full_refresh=full_refresh, schema_day=schema_change_day)


def _run(
    paths: Paths, config: GenerationConfig, *, docs: bool, days: int, full_refresh: bool, schema_day: int
) -> RunReport:
    """PostgreSQL is stopped at the end whatever happens."""
    seed, scale, anomaly = config.seed, config.scale, config.anomaly
    report = RunReport()
    server = PostgresServer(paths.postgres_dir)
    try:
        with Step(report, "checking the warehouse is free"):
            warehouse.ensure_writable(paths.warehouse)
            reset_if_parameters_changed(paths, seed, scale)
        with Step(report, "starting PostgreSQL (embedded, 127.0.0.1)"):
            connection = server.start()
            env = write_env_file(paths, connection)
            say(f"    listening on 127.0.0.1:{connection.port}, database {connection.database}")
        with Step(report, f"generating the sources (seed {seed}, scale {scale})"):
            if anomaly:
                say(f"    with the deliberate anomaly {anomaly!r}")
            generate_sources(paths, connection, seed, scale, anomaly)
        if days:
            with Step(report, f"advancing the sources {days} day(s)"):
                advance_sources(paths, connection, config, days, schema_day)
        env.update(business_now_env(connection, config))
        with Step(report, "extract and load with Meltano into DuckDB"):
            extract_load(paths, env, report)
        with Step(report, "source snapshot for reconciliation (audit schema)"):
            events_dir = paths.landing_dir / "events"
            counts, problems = audit.snapshot_sources(connection.conninfo, events_dir, paths.warehouse)
            say("    " + ", ".join(f"{entity} {n:,}" for entity, n in counts.items()))
            for problem in problems:
                say(f"    warning: no source total for {problem}")
    finally:
        if server.is_running():
            server.stop()
            say("==> PostgreSQL stopped")
    if env.get("TIDEWATER_BUSINESS_NOW"):
        say(f"==> business time: {env['TIDEWATER_BUSINESS_NOW']} (freshness and anomaly tests are judged as of it)")
    build_name = "dbt build --full-refresh (seeds, models, snapshots, tests)" if full_refresh else None
    with Step(report, build_name or "dbt build (seeds, models, snapshots, tests; incremental marts)"):
        try:
            dbt(paths, env, "build", *(["--full-refresh"] if full_refresh else []), log_name="dbt-build")
        finally:
            report.dbt_results = keep_build_results(paths)
    with Step(report, "dbt source freshness"):
        dbt(paths, env, "source", "freshness", log_name="dbt-source-freshness", echo_all=False)
    if docs:
        docs_and_report(paths, env, report)
    report.rows_per_layer = warehouse.rows_per_layer(warehouse.table_counts(paths.warehouse))
    write_timings(paths, report)
    return report


def write_timings(paths: Paths, report: RunReport) -> None:
    """The step timings, machine-readable (`tidewater bench` reads them): start (epoch s), seconds and, for each
    extract+load, the rows its raw schema holds after the load; and the run's wall time (steps overlap)."""
    steps = [
        {"name": name, "started": report.started.get(name), "seconds": seconds, "rows": report.el_rows.get(name)}
        for name, seconds in report.timings.items()
    ]
    paths.run_timings_file.parent.mkdir(parents=True, exist_ok=True)
    document = {"steps": steps, "wall_seconds": report.wall_seconds()}
    paths.run_timings_file.write_text(json.dumps(document, indent=2) + "\n")


def print_summary(paths: Paths, report: RunReport) -> None:
    say()
    say("Tidewater run complete")
    say(f"  warehouse: {paths.warehouse}")
    if paths.docs_file.exists():
        say(f"  docs:      {paths.docs_file}")
    if elementary.report_file(paths).exists():
        say(f"  report:    {elementary.report_file(paths)} (Elementary)")
    say("  rows per layer:")
    for layer, relations, rows in report.rows_per_layer:
        say(f"    {layer:<20} {relations:>3} relations {rows:>12,} rows")
    tests: dict[str, int] = {}
    for key, count in report.dbt_results.items():
        kind, status = key.split(" ", 1)
        if kind in ("test", "unit_test"):
            tests[status] = tests.get(status, 0) + count
    if tests:
        say("  dbt tests: " + ", ".join(f"{count} {status}" for status, count in sorted(tests.items())))
    say(f"  total time: {report.wall_seconds():.0f} s")
