"""Run dlt and DuckDB's own readers on the sources the pipeline just loaded, each in .venv-bench, each into its own
DuckDB file, timed per source, with the peak RSS of its process and a row count check against the sources."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidewater.bench.memory import RssSampler
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT

BENCH_VENV = PROJECT_ROOT / ".venv-bench"
# name -> module run in .venv-bench
COMPETITORS: dict[str, str] = {"dlt": "tidewater.bench.dlt_load", "duckdb": "tidewater.bench.duckdb_readers"}


@dataclass
class CompetitorRun:
    name: str
    version: str = ""
    seconds: float = 0.0  # the whole process, interpreter start included
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # source -> seconds, rows, peak_rss
    peak_rss: int | None = None
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None


def bench_python() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        raise TidewaterError(f"{BENCH_VENV.name} is missing: `make bench` (or `make install-bench`) builds it")
    return python


def _import_root(work_dir: Path) -> Path:
    """A folder in which `tidewater.bench` is this folder, for PYTHONPATH: .venv-bench does not install tidewater
    (its dependencies would move the competitors' pins), and the loaders need only this package's standard-library
    modules."""
    root = work_dir / "import"
    link = root / "tidewater" / "bench"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(__file__).resolve().parent, target_is_directory=True)
    return root


def run_competitor(
    name: str, conninfo: str, landing_dir: Path, work_dir: Path, expected: dict[str, int]
) -> CompetitorRun:
    """Load the sources with one competitor; a failure or a wrong row count is recorded, not raised."""
    work_dir.mkdir(parents=True, exist_ok=True)
    database, result_file, log_file = (work_dir / f"{name}.duckdb", work_dir / f"{name}.json", work_dir / f"{name}.log")
    for stale in (database, result_file):
        stale.unlink(missing_ok=True)
    pythonpath = os.pathsep.join([str(_import_root(work_dir)), str(PROJECT_ROOT / "extract" / "tap_landing_zone")])
    command = [
        str(bench_python()), "-m", COMPETITORS[name], "--conninfo", conninfo, "--landing-dir", str(landing_dir),
        "--database", str(database), "--work-dir", str(work_dir), "--result", str(result_file),
    ]  # fmt: skip
    run = CompetitorRun(name)
    started = time.perf_counter()
    with log_file.open("w") as log:
        env = {**os.environ, "PYTHONPATH": pythonpath, "RUNTIME__DLTHUB_TELEMETRY": "false", "DO_NOT_TRACK": "1"}
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work_dir)
        with RssSampler(process.pid) as sampler:
            returncode = process.wait()
    run.seconds = time.perf_counter() - started
    run.peak_rss = sampler.peak()
    if returncode != 0 or not result_file.exists():
        tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
        run.error = f"exit {returncode}; log: {log_file}: " + " | ".join(tail)
        return run
    document = json.loads(result_file.read_text())
    run.version = str(document.get("version", ""))
    for source, entry in document["sources"].items():
        rows = sum(entry["rows"].values())
        run.sources[source] = {
            "seconds": entry["seconds"],
            "rows": rows,
            "tables": entry["rows"],
            "peak_rss": sampler.peak(entry["started"], entry["started"] + entry["seconds"]),
        }
        if rows != expected.get(source):
            run.mismatches.append(f"{name} loaded {rows} {source} rows, the source has {expected.get(source)}")
    run.mismatches.extend(
        f"{name} loaded nothing of {source} (the source has {rows} rows)"
        for source, rows in expected.items()
        if source not in run.sources
    )
    return run
