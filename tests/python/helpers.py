"""What the tests share: running `tidewater` and Meltano as a user would, copying a built data folder for a drill,
reading the warehouse and dbt's results, comparing marts, and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import meltano, warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

TEST_SCALE = 0.01
TEST_SEED = 42
BIN = Path(sys.executable).parent
RECONCILIATION_TESTS = (
    "assert_source_keys_reach_raw_and_marts",
    "assert_source_totals_match_marts",
    "assert_landed_lines_reach_raw",
    "assert_audit_snapshot_is_current",
    "assert_app_source_rows_match_raw",
    "assert_app_source_structure_unchanged",
)


def _env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})}


def tidewater_cli(
    *args: str, data_dir: Path, extra_env: dict[str, str] | None = None, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """Run the `tidewater` command as a user would, with its own data folder."""
    return subprocess.run(
        [str(BIN / "tidewater"), "--data-dir", str(data_dir), *args],
        cwd=PROJECT_ROOT,
        env=_env(extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def materialize(settings: Settings, selection: str, *partition: str) -> subprocess.CompletedProcess[str]:
    """Dagster's own CLI on `settings`' data folder (the UI launches the same single run): the assets `selection`
    names, for the partition (`--partition DAY`) or range (`--partition-range FIRST...LAST`) given."""
    return subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "--module-name", "tidewater.orchestrate.definitions",
         "--select", selection, *partition],
        cwd=PROJECT_ROOT,
        env=_env(settings.env()),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )  # fmt: skip


def dbt_cli(settings: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Plain `dbt` from the project's folder, as a user runs it, on `settings`' data folder."""
    return subprocess.run(
        [str(BIN / "dbt"), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings.env()},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run(
    settings: Settings, *args: str, extra_env: dict[str, str] | None = None, sync: bool = False
) -> subprocess.CompletedProcess[str]:
    """`tidewater run` at the test scale, without the docs and the report, and without the reverse ETL sync unless
    asked (the tests that read those say so)."""
    return tidewater_cli("run", "--scale", str(TEST_SCALE), "--no-docs", *([] if sync else ["--no-sync"]), *args,
                         data_dir=settings.data_dir, extra_env=extra_env)  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return result


def start_run(settings: Settings, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A `tidewater run` in the background (without the docs and the sync). No --scale: a drill's folder is a copy of
    a built one, whose scale holds."""
    return start_tidewater(settings, "run", "--no-docs", "--no-sync", *args, extra_env=extra_env)


def start_tidewater(settings: Settings, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A `tidewater` command in the background, in its own process group (so that kill -9 reaches its children)."""
    return subprocess.Popen(
        [str(BIN / "tidewater"), "--data-dir", str(settings.data_dir), *args],
        cwd=PROJECT_ROOT,
        env=_env(extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended before {what}:\n{out[-3000:]}\n{err[-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def log_lines(path: Path, since: float, needle: str) -> int:
    """Lines of a log written after `since` that contain `needle`."""
    try:
        if path.stat().st_mtime < since:
            return 0
        return sum(1 for line in path.read_text(errors="replace").splitlines() if needle in line)
    except FileNotFoundError:
        return 0


def copy_data_folder(source: Path, destination: Path) -> Settings:
    """A drill's own data folder: a copy of a built one (sources, PostgreSQL's files, warehouse, Meltano's state,
    Dagster's history), owners, modes and mtimes kept (the generator and PostgreSQL rely on them)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(source), str(destination)], check=True)
    return Settings.load(destination)


def meltano_run_alone(
    data_dir: Path, extractor: str, extra_env: str = ""
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`meltano run EXTRACTOR target-duckdb` on a data folder of its own (landing files under it), into a warehouse
    of its own. Returns the result and the warehouse's path."""
    wh = data_dir / "warehouse" / "tidewater.duckdb"
    wh.parent.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "tidewater.env"
    env_file.write_text(
        f"TIDEWATER_DATA_DIR={data_dir}\nTIDEWATER_WAREHOUSE={wh}\n"
        f"MELTANO_STATE_BACKEND_URI={(data_dir / 'state').as_uri()}\n{extra_env}"
    )
    # --force, as the pipeline does: a run killed by another test (the kill drill) leaves its job marked running in
    # Meltano's database of runs (the project's), and would block this one for minutes.
    result = subprocess.run(
        [str(BIN / "meltano"), "--env-file", str(env_file), "run", "--force", extractor, "target-duckdb"],
        cwd=PROJECT_ROOT,
        env=meltano_env(data_dir),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result, wh


def meltano_env(data_dir: Path) -> dict[str, str]:
    """The environment for a `meltano` command on a data folder of its own, as the pipeline gives it: Meltano's system
    folder and database under the folder. Otherwise Meltano writes a plugin's config for the run (the tap's password)
    into the project's .meltano/run/, readable by others, where test_leaks looks."""
    settings = Settings.load(data_dir)
    meltano.system_dir(settings)
    return _env({name: settings.env()[name] for name in ("MELTANO_SYS_DIR_ROOT", "MELTANO_DATABASE_URI")})


# -- Dagster, as its daemon would use it ---------------------------------------------------------------------


def in_dagster(settings: Settings, code: str, extra_env: dict[str, str] | None = None, timeout: float = 900) -> Any:
    """Run `code` in a fresh Python with the data folder's settings and Dagster instance, the definitions loaded
    as `d` and the instance as `instance`; it prints its answer as JSON on its last line."""
    script = "\n".join(
        [
            "import json",
            "from tidewater.orchestrate.runner import instance as _instance",
            "from tidewater.orchestrate.settings import Settings",
            "settings = Settings.load()",
            "instance = _instance(settings)",
            "from tidewater.orchestrate import definitions as d",
            textwrap.dedent(code),
        ]
    )
    env = {**settings.env(), **(extra_env or {})}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    PostgresServer(settings.postgres_dir).stop()  # a run this started may have left the app database up
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


EXECUTE = """
from dagster import execute_job
from tidewater.orchestrate.runner import DOCUMENTS
keys = [key for key in d.job(JOB).asset_layer.selected_asset_keys if key not in DOCUMENTS]
result = execute_job(d.reconstructable(JOB), instance=instance, tags=TAGS, asset_selection=keys, raise_on_error=False)
print(json.dumps({"success": result.success, "run_id": result.run_id}))
"""


def execute(settings: Settings, job: str, tags: dict[str, str], extra_env: dict[str, str] | None = None) -> dict:
    """The run a schedule or sensor asked for, executed as the daemon's run launcher would, without the docs and the
    report (as `tidewater run --no-docs`: the built pipeline's tests read those)."""
    code = EXECUTE.replace("JOB", repr(job)).replace("TAGS", repr(tags))
    return in_dagster(settings, code, extra_env)


SCHEDULE = """
from dagster import build_schedule_context
with build_schedule_context(instance=instance, repository_def=d.defs.get_repository_def()) as context:
    result = d.defs.get_schedule_def("daily").evaluate_tick(context)
print(json.dumps([{"partition": r.partition_key, "tags": dict(r.tags)} for r in result.run_requests]))
"""

SENSOR = """
from dagster import build_sensor_context
sensor = d.defs.get_sensor_def("landing_zone")
result = sensor.evaluate_tick(build_sensor_context(instance=instance, definitions=d.defs))
print(json.dumps({
    "requests": [
        {"partition": r.partition_key, "job": r.job_name or sensor.job_name, "tags": dict(r.tags)}
        for r in result.run_requests
    ],
    "skip": result.skip_message,
}))
"""


def daily_schedule_tick(settings: Settings) -> list[dict[str, Any]]:
    """The `daily` schedule evaluated as the daemon evaluates it: the runs it asks for."""
    return in_dagster(settings, SCHEDULE)


def landing_zone_tick(settings: Settings) -> dict[str, Any]:
    """The `landing_zone` sensor evaluated as the daemon evaluates it: its requests, or why it skipped."""
    return in_dagster(settings, SENSOR)


# -- the warehouse and dbt's results ---------------------------------------------------------------------------


def rows(settings: Settings, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with warehouse.connect(settings.warehouse) as connection:
        return connection.execute(sql, list(params)).fetchall()


def listed_by(settings: Settings, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a dbt test lists (a build result's compiled SQL run on the warehouse), as dicts by column."""
    with warehouse.connect(settings.warehouse) as connection:
        cursor = connection.execute(result["compiled_code"])
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def scalar(settings: Settings, sql: str, *params: Any) -> Any:
    (row,) = rows(settings, sql, *params)
    return row[0]


def build_results(settings: Settings) -> dict[str, dict[str, Any]]:
    """The last `dbt build`'s results by node name."""
    results = json.loads(settings.build_results_file.read_text())["results"]
    return {result["unique_id"].split(".")[2]: result for result in results}


def assert_reconciled(settings: Settings) -> None:
    results = build_results(settings)
    for name in RECONCILIATION_TESTS:
        assert results[name]["status"] == "pass", (name, results[name].get("message"))


def mart_contents(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every mart and metrics table, business columns only (not the load times: a rerun re-delivers
    the bookmark row, loaded again at a new time), sorted."""
    contents = {}
    with warehouse.connect(settings.warehouse) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'metrics') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if not name.endswith("loaded_at")
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            contents[f"{schema}.{table}"] = con.execute(
                f'select {select} from {schema}."{table}" order by all'
            ).fetchall()
    return contents


def assert_same_marts(actual: dict[str, list[tuple[Any, ...]]], expected: dict[str, list[tuple[Any, ...]]]) -> None:
    assert sorted(actual) == sorted(expected)
    differ = {
        name: (len(expected[name]), len(actual[name]), len(set(expected[name]) ^ set(actual[name])))
        for name in expected
        if actual[name] != expected[name]
    }
    assert not differ, f"tables that differ (rows expected, rows found, rows different): {differ}"


# -- a webhook receiver --------------------------------------------------------------------------------------


class Receiver:
    """Slack-style webhook on 127.0.0.1: what arrived, as text."""

    def __init__(self) -> None:
        received: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"

    def text(self) -> str:
        """Every message's text (Slack's `text`, else the body as it came)."""
        texts = []
        for body in self.received:
            try:
                texts.append(json.loads(body).get("text") or body)
            except json.JSONDecodeError:
                texts.append(body)
        return "\n".join(texts)


@contextmanager
def webhook() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(
    argv: Callable[[int], list[str]],
    health: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server of ours (`argv(port)`) on a free port of 127.0.0.1 until the block ends, once `health` (a path)
    answers 200. Stopped with its whole process group (a server's workers and children too), by its PID."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv(port),
            cwd=PROJECT_ROOT,
            env={**_env(), **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(url + health, timeout=5) as response:
                if response.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{' '.join(argv(port)[:4])} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process
    finally:
        # A server may run its tool in a process group of its own (`tidewater ui`: Dagster's dev server), so what it
        # started is ended by PID too if it outlives the server. A test may have stopped the server already.
        started: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            started = psutil.Process(process.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # what outlived SIGTERM in the group
        process.wait(timeout=20)
        for leftover in psutil.wait_procs(started, timeout=20)[1]:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
