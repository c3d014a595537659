"""What a person sees while a run goes: a line when a step starts and when it ends (with its time), the steps' own
messages, and the error of a step that fails. Everything else stays in Dagster's event log (`make ui`)."""

from __future__ import annotations

import logging
import sys

from dagster import DagsterEventType, InitLoggerContext, logger


class StepLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            text = str(meta.get("orig_message", record.getMessage()))
            # Dagster names every upstream output of a step it skips; the failure above says what went wrong.
            if record.levelno >= logging.INFO and step and not text.startswith("Dependencies for step"):
                prefix = "    " if record.levelno < logging.WARNING else f"    {record.levelname.lower()}: "
                print(prefix + str(text), file=sys.stdout, flush=True)
            return
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            print(f"==> {step}", flush=True)
        elif kind == DagsterEventType.STEP_SUCCESS:
            seconds = event.event_specific_data.duration_ms / 1000
            print(f"    {step} done in {seconds:.1f} s", flush=True)
        elif kind == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            cause = error.cause if error and error.cause else error
            text = (cause.message if cause else "").strip().splitlines()
            print(f"    {step} FAILED: " + "\n      ".join(text[:12]), flush=True)
        elif kind == DagsterEventType.STEP_SKIPPED:
            print(f"    {step} skipped (a step before it failed)", flush=True)


@logger(description="Tidewater's console: each step's start, end and messages, for `tidewater run`.")
def step_lines(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.Logger("tidewater", level=logging.DEBUG)  # step events are DEBUG; the handler picks what to show
    log.addHandler(StepLines())
    return log
