"""The whole lifecycle, step by step: PostgreSQL up, generate, extract+load, dbt build, docs, PostgreSQL down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tidewater import elementary, warehouse
from tidewater.errors import TidewaterError
from tidewater.generate import GenerationConfig, generate
from tidewater.paths import Paths, venv_tool
from tidewater.postgres import Connection, PostgresServer

# Each source's Meltano pipeline, in the order they run.
EL_TASKS: tuple[tuple[str, str], ...] = (
    ("app database (PostgreSQL)", "tap-postgres"),
    ("event landing zone (JSON lines)", "tap-landing-zone"),
    ("marketing spreadsheet (CSV)", "tap-spreadsheets"),
)
LOADER = "target-duckdb"
# Where each extractor lands (its load_schema in meltano.yml).
RAW_SCHEMAS = {"tap-postgres": "raw_app", "tap-landing-zone": "raw_events", "tap-spreadsheets": "raw_marketing"}


def say(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class RunReport:
    timings: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)  # wall-clock start (epoch seconds) of each timing
    el_rows: dict[str, int] = field(default_factory=dict)  # rows in each extractor's raw schema after the load
    dbt_results: dict[str, int] = field(default_factory=dict)
    rows_per_layer: list[tuple[str, int, int]] = field(default_factory=list)


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
            tail = [*tail, line.rstrip()][-200:]
            if echo and echo(line):
                say("    " + line.rstrip())
        returncode = process.wait()
        done.set()
    if returncode != 0:
        errors = [line for line in tail if any(word in line for word in ("ERROR", "Error", "error", "Exception"))]
        detail = "\n      ".join((errors or tail)[-6:])
        raise TidewaterError(f"`{' '.join(command[:4])}` failed (exit {returncode}); log: {log_file}\n      {detail}")


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


def extract_load(paths: Paths, env: dict[str, str], report: RunReport) -> None:
    meltano = venv_tool("meltano")
    for label, extractor in EL_TASKS:
        started = time.monotonic()
        report.started[f"el {extractor}"] = time.time()
        run_logged(
            [meltano, "--env-file", str(paths.env_file), "--log-level", "info", "run", extractor, LOADER],
            env=env,
            cwd=paths.project_root,
            log_file=paths.logs_dir / f"el-{extractor}.log",
            heartbeat=f"loading {label}",
        )
        elapsed = time.monotonic() - started
        report.timings[f"el {extractor}"] = elapsed
        say(f"    {label}: {elapsed:.1f} s")
    counts = warehouse.table_counts(paths.warehouse)
    for extractor, schema in RAW_SCHEMAS.items():
        report.el_rows[f"el {extractor}"] = sum(counts.get(schema, {}).values())


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


def observability(paths: Paths, report: RunReport) -> None:
    """Elementary's report (one self-contained HTML file) and, when a webhook is configured, its alerts."""
    with Step(report, "Elementary report (edr report)"):
        run_logged(
            elementary.report_command(paths),
            env=elementary.env(paths),
            cwd=paths.project_root,
            log_file=paths.logs_dir / "edr-report.log",
            heartbeat="building the Elementary report",
        )
        say(f"    {elementary.report_file(paths)} ({elementary.report_file(paths).stat().st_size / 1e6:.1f} MB)")
    webhook = elementary.alert_webhook()
    if webhook:
        with Step(report, "Elementary alerts (edr monitor)"):
            run_logged(
                elementary.monitor_command(paths, webhook),
                env=elementary.env(paths),
                cwd=paths.project_root,
                log_file=paths.logs_dir / "edr-monitor.log",
            )


def run(paths: Paths, *, seed: int, scale: float, docs: bool = True, anomaly: str | None = None) -> RunReport:
    """The whole lifecycle. PostgreSQL is stopped at the end whatever happens."""
    generation_config(seed, scale, anomaly)  # bad settings fail before anything starts
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
        with Step(report, "extract and load with Meltano into DuckDB"):
            extract_load(paths, env, report)
    finally:
        if server.is_running():
            server.stop()
            say("==> PostgreSQL stopped")
    with Step(report, "dbt build (seeds, models, tests)"):
        try:
            dbt(paths, env, "build", log_name="dbt-build")
        finally:
            report.dbt_results = keep_build_results(paths)
    with Step(report, "dbt source freshness"):
        dbt(paths, env, "source", "freshness", log_name="dbt-source-freshness", echo_all=False)
    if docs:
        with Step(report, "dbt docs generate --static"):
            dbt(paths, env, "docs", "generate", "--static", log_name="dbt-docs", echo_all=False)
        observability(paths, report)
    report.rows_per_layer = warehouse.rows_per_layer(warehouse.table_counts(paths.warehouse))
    write_timings(paths, report)
    return report


def write_timings(paths: Paths, report: RunReport) -> None:
    """The step timings, machine-readable (`tidewater bench` reads them): start (epoch s), seconds and, for each
    extract+load, the rows its raw schema holds after the load."""
    steps = [
        {"name": name, "started": report.started.get(name), "seconds": seconds, "rows": report.el_rows.get(name)}
        for name, seconds in report.timings.items()
    ]
    paths.run_timings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.run_timings_file.write_text(json.dumps({"steps": steps}, indent=2) + "\n")


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
    say(f"  total time: {sum(v for k, v in report.timings.items() if not k.startswith('el ')):.0f} s")
