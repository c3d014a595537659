"""Peak memory of a process tree: psutil samples the summed RSS of the tree every few tenths of a second.

The embedded PostgreSQL is started by `pg_ctl`, so its server is not a child of the process that started it; its
processes are added to the tree by the postmaster.pid file of the data folder. Summed RSS counts shared pages
once per process, so it overstates a little (PostgreSQL's shared buffers most).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left, bisect_right
from pathlib import Path

import psutil

INTERVAL_S = 0.2


def _postmaster_pid(pidfile: Path | None) -> int | None:
    if pidfile is None:
        return None
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None  # negative while initdb runs a single-user server


def tree_rss(root_pid: int, postmaster_pidfile: Path | None = None) -> int:
    """Summed RSS (bytes) of `root_pid`, its descendants, and the PostgreSQL server when it runs."""
    roots = [root_pid]
    postmaster = _postmaster_pid(postmaster_pidfile)
    if postmaster is not None:
        roots.append(postmaster)
    seen: set[int] = set()
    total = 0
    for pid in roots:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in processes:
            if process.pid in seen:
                continue
            seen.add(process.pid)
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue  # ended between listing and reading
    return total


class RssSampler:
    """Samples a process tree in a background thread; `peak()` answers for any wall-clock interval."""

    def __init__(self, root_pid: int, postmaster_pidfile: Path | None = None, interval: float = INTERVAL_S) -> None:
        self.root_pid, self.pidfile, self.interval = root_pid, postmaster_pidfile, interval
        self.times: list[float] = []
        self.rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.times.append(time.time())
            self.rss.append(tree_rss(self.root_pid, self.pidfile))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float | None = None, end: float | None = None) -> int | None:
        """The highest sample (bytes) taken between `start` and `end` (epoch seconds). A window shorter than the
        interval may hold no sample: then the first one after it, else None."""
        lo = 0 if start is None else bisect_left(self.times, start)
        hi = len(self.times) if end is None else bisect_right(self.times, end)
        window = self.rss[lo:hi] or self.rss[hi : hi + 1]
        return max(window) if window else None
