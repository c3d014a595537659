"""Run the three sources (app database, web events, marketing spreadsheet) and record what was generated."""

from __future__ import annotations

import gc
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from .advance import ADVANCE_FILE, ADVANCE_FILE_PREFIX, remove_advanced_files
from .app_db import (
    AppData,
    app_database_is_current,
    build_app_data,
    database_holds,
    load_app_database,
    stored_generation,
)
from .config import GenerationConfig
from .events import write_events
from .files import write_if_changed
from .spreadsheet import ACQUISITION_CHANNELS, PAID_CHANNELS, write_marketing_spend

T = TypeVar("T")

SUMMARY_FILE = "_generation.json"
# What the last complete generation left: each file's size and mtime, and the database's fingerprint of it. When all
# still hold, a run that asks for the same generation skips rebuilding it (seconds at scale 1, minutes at 10).
FILES_RECORD = ".generated-files.json"
FORMAT_VERSION = 1
# Bumped when the same seed and scale make other rows than before (2: products got a supplier; 3: customers got their
# marketing consent): a generation in place recorded under another version is built and compared again, not skipped
# as unchanged.
GENERATOR_VERSION = 3
# Counts that describe what this run did to the files rather than what the data is (kept out of the json).
_RUN_ONLY_COUNTS = ("files_written", "files_unchanged", "stale_files_removed", "file_written")


@dataclass(frozen=True)
class Summary:
    config: GenerationConfig
    landing_dir: Path
    app_db: dict[str, int]
    database: str  # "loaded", "unchanged" (reload skipped) or "not loaded" (no connection given)
    events: dict[str, int]
    marketing: dict[str, int]
    source_totals: dict[str, object]
    summary_written: bool
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """One line per source, for people."""
        a, e, m, s = self.app_db, self.events, self.marketing, self.seconds
        db_note = {
            "loaded": f"loaded into PostgreSQL in {s.get('database', 0):.1f}s",
            "unchanged": "PostgreSQL already holds this generation, reload skipped",
            "not loaded": "PostgreSQL not loaded (no connection given)",
        }[self.database]
        tables = " ".join(f"{t}={n}" for t, n in a.items())
        return [
            f"app_db: {tables}; {db_note}",
            f"events: {e['lines']} lines in {e['files']} day files ({e['files_written']} written, "
            f"{e['files_unchanged']} unchanged); {e['valid_distinct_events']} distinct valid events, "
            f"{e['purchase_events']} purchases, {e['bot_events']} bot events, "
            f"{e['duplicate_lines']} duplicate, {e['late_lines']} late, "
            f"{e['malformed_lines']} malformed lines ({s.get('events', 0):.1f}s)",
            f"marketing: {m['rows']} rows ({m['spend_rows']} spend rows), spend as written "
            f"${Decimal(m['spend_cents_as_written']).scaleb(-2):,}; "
            f"{'written' if m['file_written'] else 'unchanged'}",
            f"summary: {self.landing_dir / SUMMARY_FILE} "
            f"({'written' if self.summary_written else 'unchanged'}); "
            f"seed {self.config.seed}, scale {self.config.scale}"
            + (f", anomaly {self.config.anomaly}" if self.config.anomaly else "")
            + f", {s.get('total', 0):.1f}s in total",
        ]


def _source_totals(data: AppData, events: dict[str, int], marketing: dict[str, int]) -> dict[str, object]:
    totals: dict[str, object] = dict(data.source_totals())
    totals["valid_distinct_events"] = events["valid_distinct_events"]
    totals["purchases"] = events["purchase_events"]
    totals["bot_events"] = events["bot_events"]
    totals["marketing_spend"] = f"{Decimal(marketing['spend_cents_as_written']).scaleb(-2):.2f}"
    totals["marketing_spend_by_channel"] = {
        ch: f"{Decimal(marketing[f'spend_cents_as_written.{ch}']).scaleb(-2):.2f}" for ch in PAID_CHANNELS
    }
    by_channel = dict.fromkeys(ACQUISITION_CHANNELS, 0)
    for c in data.customers:
        by_channel[c.acquisition_channel] += 1
    totals["new_customers_by_channel"] = by_channel
    return totals


def summary_document(
    config: GenerationConfig, app_db: dict[str, int], events: dict[str, int], marketing: dict[str, int],
    source_totals: dict[str, object],
) -> dict[str, object]:  # fmt: skip
    """The content of `_generation.json`: only what the data is, so the same config gives the same bytes.

    The key `anomaly` is there only when one was injected (a normal generation's document is unchanged).
    """

    def keep(counts: dict[str, int]) -> dict[str, int]:
        return {k: v for k, v in counts.items() if k not in _RUN_ONLY_COUNTS}

    document: dict[str, object] = {
        "format_version": FORMAT_VERSION,
        "seed": config.seed,
        "scale": config.scale,
    }
    if config.anomaly is not None:
        document["anomaly"] = config.anomaly
    document["window"] = {"start": config.start.isoformat(), "end": config.end.isoformat()}
    document["counts"] = {"app_db": app_db, "events": keep(events), "marketing": keep(marketing)}
    document["source_totals"] = source_totals
    return document


def _timed(function: Callable[..., T], *args: object) -> tuple[T, float]:
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything).

    A generation holds millions of objects for its whole run (the rows, the sessions, the day buckets) and
    makes next to no reference cycles (a few dozen objects at scale 1), but the collector, triggered by the
    allocations, walks the growing heap again and again: without it a generation takes over a quarter less CPU.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_and_report(send: Connection, conninfo: str, data: AppData) -> None:
    """In the loading process: load, and send back (True, (counts, seconds)) or (False, the exception)."""
    try:
        result: tuple[bool, Any] = (True, _timed(load_app_database, conninfo, data))
    except BaseException as error:  # the parent raises it
        result = (False, error)
    try:
        send.send(result)
    except Exception:  # an exception that does not pickle: its text
        send.send((False, RuntimeError(f"loading the app database failed: {result[1]!r}")))
    finally:
        send.close()


class _Loading:
    """`load_app_database` running beside the event writer, in a forked process where there is fork (Linux).

    Both are CPU-bound Python (the load turns a million values into COPY text, the writer a million events
    into lines): in a thread they would share one interpreter lock, in a process they use the second core.
    The child gets the rows by fork (nothing is pickled); it sends back the row counts and its time, or its
    exception, which `result` raises. Without fork (macOS's default, Windows) the load runs in a thread.
    """

    def __init__(self, conninfo: str, data: AppData) -> None:
        self._future: Future[tuple[dict[str, int], float]] | None = None
        self._process: Any = None
        if sys.platform.startswith("linux"):
            context = multiprocessing.get_context("fork")
            self._receive, send = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_load_and_report, args=(send, conninfo, data), name="app-db-load", daemon=True
            )
            self._process.start()
            send.close()
        else:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="app-db-load")
            self._future = self._pool.submit(_timed, load_app_database, conninfo, data)

    def result(self) -> tuple[dict[str, int], float]:
        """Wait for the load: (rows per table, seconds), or its exception raised."""
        if self._future is not None:
            return self._future.result()
        try:
            ok, value = self._receive.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            raise RuntimeError(f"the app database load ended without a word (exit code {code})") from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Wait until the load has ended (also when the writer failed: no load left running)."""
        if self._future is not None:
            self._pool.shutdown(wait=True)
        else:
            self._process.join()
            self._receive.close()


def generate(
    config: GenerationConfig, landing_dir: Path, conninfo: str | None, *, force_reload: bool = False
) -> Summary:
    """Generate all sources. With `conninfo` None the database is left alone (files only)."""
    with _without_cyclic_gc():
        return _generate(config, landing_dir, conninfo, force_reload=force_reload)


def _generate(config: GenerationConfig, landing_dir: Path, conninfo: str | None, *, force_reload: bool) -> Summary:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    if conninfo is not None and not force_reload:
        unchanged = unchanged_generation(config, landing_dir, conninfo)
        if unchanged is not None:
            unchanged.seconds["total"] = time.perf_counter() - started
            return unchanged
    (landing_dir / FILES_RECORD).unlink(missing_ok=True)  # written again once this generation is complete

    data = build_app_data(config)
    seconds["app_data"] = time.perf_counter() - started
    app_counts = {table: len(rows) for table, rows in data.tables().items()}
    database = "not loaded"
    reload = False
    if conninfo is not None:
        reload = force_reload or not app_database_is_current(conninfo, data)
        database = "loaded" if reload else "unchanged"
        if reload:
            remove_advanced_files(landing_dir)  # days advanced on other rows no longer apply

    # The app database loads (see `_Loading`) while this process writes the files.
    t = time.perf_counter()
    load = _Loading(conninfo, data) if reload and conninfo is not None else None
    try:
        events = write_events(landing_dir, data, config)
        seconds["events"] = time.perf_counter() - t
        t = time.perf_counter()
        marketing = write_marketing_spend(landing_dir, config)
        seconds["marketing"] = time.perf_counter() - t
        if load is not None:
            app_counts, seconds["database"] = load.result()
    finally:
        if load is not None:
            load.close()

    totals = _source_totals(data, events, marketing)
    document = summary_document(config, app_counts, events, marketing, totals)
    text = json.dumps(document, indent=2) + "\n"
    written = write_if_changed(landing_dir / SUMMARY_FILE, text.encode("utf-8"))
    if conninfo is not None:
        record_generation(config, landing_dir, conninfo)
    seconds["total"] = time.perf_counter() - started
    return Summary(config, landing_dir, app_counts, database, events, marketing, totals, written, seconds)


def _generated_files(landing_dir: Path) -> dict[str, list[int]]:
    """Size and mtime of every file the generation wrote (not the days advanced since, nor the record itself)."""
    files: dict[str, list[int]] = {}
    for path in sorted(landing_dir.rglob("*")):
        if not path.is_file() or path.name in (FILES_RECORD, ADVANCE_FILE) or path.name.startswith(ADVANCE_FILE_PREFIX):
            continue
        stat = path.stat()
        files[path.relative_to(landing_dir).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return files


def record_generation(config: GenerationConfig, landing_dir: Path, conninfo: str) -> None:
    generation = stored_generation(conninfo)
    if generation is None:
        return
    record = {
        "seed": config.seed,
        "scale": config.scale,
        "anomaly": config.anomaly,
        "generator_version": GENERATOR_VERSION,
        "fingerprint": generation[2],
        "files": _generated_files(landing_dir),
    }
    (landing_dir / FILES_RECORD).write_text(json.dumps(record, indent=1) + "\n")


def unchanged_generation(config: GenerationConfig, landing_dir: Path, conninfo: str) -> Summary | None:
    """The summary of the generation already in place, if nothing of it changed since it was recorded; else None.

    Unchanged means: the recorded files are there with the same size and mtime (the generator never touches a file
    whose bytes are the same, and nothing else was added beside them), and the database holds the recorded
    generation with its row counts (`database_holds`, the check `app_database_is_current` makes).
    """
    try:
        record = json.loads((landing_dir / FILES_RECORD).read_text())
        document = json.loads((landing_dir / SUMMARY_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if (record.get("seed"), record.get("scale"), record.get("anomaly")) != (config.seed, config.scale, config.anomaly):
        return None
    if record.get("generator_version", 1) != GENERATOR_VERSION:
        return None
    if record.get("files") != _generated_files(landing_dir):
        return None
    counts = document["counts"]
    if not database_holds(conninfo, config, record["fingerprint"], counts["app_db"]):
        return None
    events = {**counts["events"], "files_written": 0, "files_unchanged": counts["events"]["files"]}
    events["stale_files_removed"] = 0
    marketing = {**counts["marketing"], "file_written": False}
    return Summary(
        config, landing_dir, counts["app_db"], "unchanged", events, marketing, document["source_totals"], False, {}
    )
