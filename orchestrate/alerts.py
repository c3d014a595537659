"""Alerts from the orchestrator to the webhook Elementary already uses (TIDEWATER_ALERT_WEBHOOK): Slack-formatted
JSON, one message per failure, naming the step, the error and where the log is."""

from __future__ import annotations

import requests
from dagster import HookContext, failure_hook

from tidewater.orchestrate.settings import Settings


def send(settings: Settings, title: str, lines: list[str]) -> bool:
    """Post one alert; returns whether a webhook is configured. A webhook that cannot be reached is reported on
    stderr by the caller's logger, never raised: the failure being alerted on is the one that matters."""
    if not settings.alert_webhook:
        return False
    text = "\n".join([f"*{title}*", *lines])
    payload = {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    response = requests.post(settings.alert_webhook, json=payload, timeout=10)
    response.raise_for_status()
    return True


def _log_of(message: str) -> str | None:
    """The log file our errors name ("log: <path>")."""
    _, found, rest = message.partition("log: ")
    return rest.split()[0].rstrip(")") if found and rest else None


@failure_hook(name="alert_on_failure")
def alert_on_failure(context: HookContext) -> None:
    """Any failed step (a load, a build with an error-level test failing, the report...) sends one alert."""
    settings = Settings.load()
    error = context.op_exception
    message = (getattr(error, "description", None) or str(error) or type(error).__name__).strip()
    compute_logs = settings.dagster_home / "storage" / context.run_id / "compute_logs"
    lines = [
        f"step: {context.step_key}",
        f"error: {message[:1500]}",
        f"log: {_log_of(message) or compute_logs}",
        f"run: {context.run_id} (`make ui`, then http://127.0.0.1:{settings.ui_port}/runs/{context.run_id})",
    ]
    try:
        send(settings, f"Tidewater: {context.step_key} failed", lines)
    except requests.RequestException as exc:
        context.log.warning(f"the alert could not be sent to the webhook: {exc}")
