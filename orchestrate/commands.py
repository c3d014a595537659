"""Run a tool as a subprocess the way every step does: its output in a log file under the data folder, a line now and
then so a person knows it is alive, and on failure one error naming the tool, its last error lines and the log."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

import psutil

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT

PROGRESS_EVERY_SECONDS = 15.0
# How long a stopped tool gets to end by itself (SIGTERM) before it is killed.
GRACE_SECONDS = 10.0

# The tools run_logged is running, in any thread: a step that runs several side by side stops them all when it is
# stopped (a signal reaches only the main thread).
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()


def stop_process_group(process: subprocess.Popen[str]) -> None:
    """End a tool started in a session of its own, and everything it started (Meltano's tap and loader): SIGTERM
    to its whole process group, SIGKILL to what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, GRACE_SECONDS)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_running() -> None:
    """Stop every tool run_logged is running, in every thread, and what each started."""
    with _running_lock:
        processes = list(_running)
    for process in processes:
        stop_process_group(process)


def interrupt(process: subprocess.Popen[Any]) -> None:
    """Stop a tool its own way, as Ctrl-C does (SIGINT: dbt cancels its queries; Dagster's `dev` shuts down its
    webserver, daemon and code servers and removes its temporary workspace), SIGKILL after the grace period; then
    whatever it started that outlived it (Spark's JVM, a code server)."""
    if process.poll() is not None:
        return
    started: list[psutil.Process] = []
    with suppress(psutil.Error):
        started = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(started, timeout=GRACE_SECONDS)
    for child in alive:
        with suppress(psutil.NoSuchProcess):
            child.kill()


def foreground(command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT) -> int:
    """Run a server (the Dagster UI, the dashboards) until it ends, or until this command is stopped: Ctrl-C, SIGTERM
    (cli.py) or the terminal closing. Then the server is stopped its own way (`interrupt`) and waited for.

    It runs in a process group of its own, so the one interrupt comes from here. A terminal's Ctrl-C reaches its
    whole foreground group, and a second interrupt in the middle of Dagster's shutdown would cut it short. Without
    the forwarding, `kill` of this process alone would leave the server running."""
    on_hangup = signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # not under nohup, which ignores it
    if on_hangup:
        signal.signal(signal.SIGHUP, signal.default_int_handler)
    try:
        process = subprocess.Popen(list(command), cwd=cwd, env=env, process_group=0)
        try:
            return process.wait()
        except BaseException:
            interrupt(process)
            raise
    finally:
        if on_hangup:
            signal.signal(signal.SIGHUP, signal.SIG_DFL)


@contextmanager
def side_by_side(workers: int) -> Iterator[ThreadPoolExecutor]:
    """Threads to run tools side by side (run_logged in each), waited for on the way out. If the calling thread is
    stopped (Ctrl-C, SIGTERM, Dagster's interrupt: a BaseException that is not an Exception), the tools they run
    are stopped first; an error in the calling thread lets them finish."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException as error:
        if not isinstance(error, Exception):
            stop_running()
        raise
    finally:
        pool.shutdown(wait=True)


def run_logged(
    command: Sequence[str], *, env: dict[str, str], log_file: Path, label: str, progress: TextIO | None = None
) -> None:
    """Run a command with `env` as its whole environment and its output in `log_file`; while it writes, a line every
    few seconds says it is alive (on `progress`, else this process's stdout). On failure: the error lines and the
    log's path, as one TidewaterError. If the step is stopped (Ctrl-C, SIGTERM, a run terminated from the UI), the
    tool and everything it started end with it: left alone they would go on loading into the warehouse, without the
    run's lock."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = last = time.monotonic()
    tail: list[str] = []
    with log_file.open("w") as log:
        process = subprocess.Popen(
            list(command),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopping it reaches the processes it starts
            # What the tool writes is the user's alone: Meltano's per-run plugin config (the reader's password, the
            # pseudonym key) is left behind by a killed run, and logs and batch files hold the data.
            umask=0o077,
        )
        assert process.stdout is not None
        with _running_lock:
            _running.add(process)
        try:
            for line in process.stdout:
                log.write(line)
                log.flush()  # the log is what a user tails during a long step
                tail = [*tail, line.rstrip()][-200:]
                if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
                    last = time.monotonic()
                    print(f"    ... {label} ({last - started:.0f} s)", file=progress, flush=True)
            returncode = process.wait()
        except BaseException:
            stop_process_group(process)
            raise
        finally:
            with _running_lock:
                _running.discard(process)
    if returncode != 0:
        words = ("ERROR", "Error", "error", "Exception")
        errors = [i for i, line in enumerate(tail) if any(word in line for word in words)]
        # From the last few error lines on, with the lines that explain them.
        context = tail[errors[max(0, len(errors) - 3)] :][:10] if errors else tail[-6:]
        detail = "\n      ".join(line for line in context if line.strip())
        raise TidewaterError(f"{label} failed (exit {returncode}); log: {log_file}\n      {detail}")
