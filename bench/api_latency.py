"""`tidewater bench-api`: the suppliers' API's latency on 127.0.0.1. Serves the data folder's published copy with real
uvicorn (tokens in a temporary store: the folder's own is not touched), then, for each number of clients, that many
threads load one supplier's dashboard (its four endpoints: daily sales, daily returns, top products, funnel) again
and again for --seconds: over the dashboard's default range (the last 28 published days: the API's cache answers),
then over random ranges (cold: nearly every request queries DuckDB). Prints p50/p95/p99 latency and requests/s.

--while-running first starts `tidewater run --days 1` on the same data folder (it moves the sources one day on and
publishes a new serving copy) and measures while it writes; a probe keeps asking during the whole run, to show the
API answering across the promotion. Target: p95 < 50 ms with 20 clients."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import requests

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

DASHBOARD = ("/v1/sales/daily", "/v1/returns/daily", "/v1/products/top", "/v1/funnel")
TARGET_P95_MS = 50.0


@dataclass
class Level:
    clients: int
    while_running: bool
    cold: bool = False
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def percentile(share: float) -> float | None:
            return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None

        return {
            "clients": self.clients,
            "while_running": self.while_running,
            "cold": self.cold,
            "requests": len(ordered),
            "errors": self.errors,
            "requests_per_second": len(ordered) / self.seconds if self.seconds else None,
            "p50_ms": statistics.median(ordered) if ordered else None,
            "p95_ms": percentile(0.95),
            "p99_ms": percentile(0.99),
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _busiest_supplier(settings: Settings) -> int:
    from tidewater.serve import published

    with published.connect(settings) as con:
        found = con.execute(
            "select supplier_id from marts.fct_supplier_product_daily group by 1 order by count(*) desc, 1 limit 1"
        ).fetchone()
    if found is None:
        raise TidewaterError("the published copy has no supplier rows to bench")
    return int(found[0])


class Dashboard:
    """A dashboard load's four requests: over the last 28 published days (the dashboard's default, the same every
    time, so answered from the API's cache after the first), or, cold, over a random range of 7 to 90 days ending on
    a random published day (tens of thousands of ranges: nearly every request runs its query)."""

    def __init__(self, url: str) -> None:
        published = requests.get(url + "/health", timeout=10).json()
        self.first, self.last = date.fromisoformat(published["first_day"]), date.fromisoformat(published["last_day"])

    def requests(self, cold: bool, rng: random.Random) -> list[tuple[str, dict[str, str]]]:
        end, length = self.last, 28
        if cold:
            end = self.first + timedelta(days=rng.randrange((self.last - self.first).days + 1))
            length = rng.randint(7, 90)
        days = {"from": (end - timedelta(days=length - 1)).isoformat(), "to": end.isoformat()}
        return [(path, {**days, **({"limit": "10"} if path == "/v1/products/top" else {})}) for path in DASHBOARD]


def _load(url: str, token: str, dashboard: Dashboard, level: Level, seconds: float) -> None:
    """`level.clients` threads, each a client loading the dashboard in a loop until `seconds` have passed."""
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        latencies, errors = [], 0
        rng = random.Random(number)
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            while time.monotonic() < stop_at:
                for path, params in dashboard.requests(level.cold, rng):
                    started = time.perf_counter()
                    try:
                        ok = session.get(url + path, params=params, timeout=30).status_code == 200
                    except requests.RequestException:
                        ok = False
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += not ok
        with lock:
            level.latencies_ms.extend(latencies)
            level.errors += errors

    threads = [threading.Thread(target=client, args=(number,)) for number in range(level.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    level.seconds = time.monotonic() - started


class Probe(threading.Thread):
    """One request every 50 ms for as long as the pipeline runs: errors and the serving copies answered from."""

    def __init__(self, url: str, token: str, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.settings = url, token, settings
        self.stopped = threading.Event()
        self.requests = self.errors = 0
        self.copies: set[str] = set()

    def run(self) -> None:
        from tidewater.serve import published

        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {self.token}"
            while not self.stopped.wait(0.05):
                try:
                    self.copies.add(published.current_database(self.settings).parent.name)
                    ok = session.get(self.url + "/v1/funnel", timeout=30).status_code == 200
                except (requests.RequestException, TidewaterError):
                    ok = False
                self.requests += 1
                self.errors += not ok


def _start_server(settings: Settings, store: Path, log: Path, workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    from tidewater.serve.api import command

    port = _free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            command(settings, port, tokens_file=store, access_log=False, workers=workers),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return url, server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise TidewaterError(f"the API did not start: {log.read_text()[-2000:]}")


def _start_pipeline(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    from tidewater.orchestrate.settings import venv_tool

    with log.open("wb") as output:
        return subprocess.Popen(
            [venv_tool("tidewater"), "--data-dir", str(settings.data_dir), "run", "--days", "1", "--no-docs"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children if the bench is interrupted
        )


def table(levels: list[dict[str, Any]]) -> str:
    def number(value: float | None, digits: int = 1) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        "| clients | ranges | while a run writes | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "|--------:|:-------|:------------------:|---------:|-------:|------:|-------:|-------:|-------:|",
    ]
    for level in levels:
        lines.append(
            f"| {level['clients']} | {'cold' if level['cold'] else 'default'} | "
            f"{'yes' if level['while_running'] else 'no'} | {level['requests']} | "
            f"{level['errors']} | {number(level['requests_per_second'], 0)} | {number(level['p50_ms'])} | "
            f"{number(level['p95_ms'])} | {number(level['p99_ms'])} |"
        )
    return "\n".join(lines)


def measure(
    settings: Settings, clients: list[int], seconds: float, while_running: bool, work_dir: Path, workers: int = 1
) -> dict[str, Any]:
    from tidewater.serve.api import tokens

    supplier = _busiest_supplier(settings)
    store = work_dir / "api-tokens.json"
    token = tokens.issue(settings, supplier, store=store)
    url, server = _start_server(settings, store, work_dir / "api.log", workers)
    result: dict[str, Any] = {"supplier_id": supplier, "seconds_per_level": seconds, "workers": workers, "levels": []}
    try:
        dashboard = Dashboard(url)
        _load(url, token, dashboard, Level(clients=1, while_running=False), min(2.0, seconds))  # warm-up
        for cold, count in itertools.product((False, True), clients):
            level = Level(clients=count, while_running=False, cold=cold)
            _load(url, token, dashboard, level, seconds)
            result["levels"].append(level.summary())
        if while_running:
            result["pipeline"] = _measure_while_running(settings, url, token, dashboard, clients, seconds, work_dir)
            result["levels"] += result["pipeline"].pop("levels")
    finally:
        server.terminate()
        server.wait(timeout=15)
    return result


def _measure_while_running(
    settings: Settings,
    url: str,
    token: str,
    dashboard: Dashboard,
    clients: list[int],
    seconds: float,
    work_dir: Path,
) -> dict[str, Any]:
    pipeline = _start_pipeline(settings, work_dir / "run.log")
    probe = Probe(url, token, settings)
    probe.start()
    levels, started = [], time.monotonic()
    try:
        for cold, count in itertools.product((False, True), clients):
            level = Level(clients=count, while_running=pipeline.poll() is None, cold=cold)
            _load(url, token, dashboard, level, seconds)
            level.while_running = level.while_running and pipeline.poll() is None  # the run outlasted the level
            levels.append(level.summary())
        code = pipeline.wait()
    except BaseException:
        os.killpg(pipeline.pid, signal.SIGTERM)
        pipeline.wait()
        raise
    finally:
        probe.stopped.set()
        probe.join()
    return {
        "levels": levels,
        "run_exit_code": code,
        "run_seconds": time.monotonic() - started,
        "probe_requests": probe.requests,
        "probe_errors": probe.errors,
        "serving_copies_seen": len(probe.copies),
        "run_log": str(work_dir / "run.log"),
    }


@click.command(name="bench-api", help=__doc__)
@click.option(
    "--clients", type=click.IntRange(min=1), multiple=True, default=(1, 20), show_default=True, help="Repeatable."
)
@click.option("--seconds", type=click.FloatRange(min=1), default=10, show_default=True, help="Per number of clients.")
@click.option("--while-running", is_flag=True, help="Also measure while `tidewater run --days 1` writes.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="The API's processes (uvicorn)."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results as JSON here.")
@click.pass_obj
def bench_api(
    settings: Settings, clients: tuple[int, ...], seconds: float, while_running: bool, workers: int, out: Path | None
) -> None:
    with tempfile.TemporaryDirectory(prefix="tidewater-bench-api-") as work:
        result = measure(settings, list(clients), seconds, while_running, Path(work), workers)
        if "pipeline" in result:
            result["pipeline"]["run_log_tail"] = Path(result["pipeline"].pop("run_log")).read_text()[-2000:]
    click.echo(
        f"supplier {result['supplier_id']}, {seconds:g} s per level, 4 endpoints per dashboard load, "
        f"{workers} API process(es); the clients share the machine's {os.cpu_count()} cores with the API"
    )
    click.echo(table(result["levels"]))
    pipeline = result.get("pipeline")
    if pipeline:
        click.echo(
            f"pipeline run: exit code {pipeline['run_exit_code']} after {pipeline['run_seconds']:.0f} s; probe "
            f"{pipeline['probe_requests']} requests, {pipeline['probe_errors']} errors, "
            f"{pipeline['serving_copies_seen']} serving copies seen"
        )
        if pipeline["run_exit_code"] != 0:
            click.echo(pipeline["run_log_tail"], err=True)
    for cold in (False, True):
        at_20 = [level["p95_ms"] or 0 for level in result["levels"] if level["clients"] >= 20 and level["cold"] == cold]
        if at_20:
            verdict = "met" if max(at_20) < TARGET_P95_MS else "MISSED"
            click.echo(
                f"target p95 < {TARGET_P95_MS:g} ms with 20 clients, {'cold' if cold else 'default'} ranges: "
                f"{verdict} (worst {max(at_20):.1f} ms)"
            )
    if out:
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
