"""The HTTP side: one session whose adapter retries what may pass on a second try (5xx, connection errors)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRIED_STATUSES = (500, 502, 503, 504)
LOGGER = logging.getLogger("target_webhook")
# urllib3 logs each retry with the request's path and query, where a webhook's token may be: its lines are replaced
# by ours (_LoggedRetry), which name no URL.
logging.getLogger("urllib3").setLevel(logging.ERROR)


class WebhookRefused(RuntimeError):
    """The receiver kept refusing a batch (or refused it for good): the sync must not record it as sent."""


def where(url: str) -> str:
    """The receiver as it may be logged: scheme, host and port, not the path or query (a token may be there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class _LoggedRetry(Retry):
    def increment(self, *args: Any, **kwargs: Any) -> Retry:
        retry = super().increment(*args, **kwargs)
        response, error = kwargs.get("response"), kwargs.get("error")
        why = f"HTTP {response.status}" if response is not None else type(error).__name__
        LOGGER.warning("webhook: %s; retrying (%s retries left)", why, retry.total)
        return retry


class WebhookClient:
    def __init__(self, url: str, *, max_retries: int, backoff_factor: float, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        retry = _LoggedRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            backoff_factor=backoff_factor,
            status_forcelist=RETRIED_STATUSES,
            # POST is not idempotent in general; these batches are (upserts and deletes by key), so a resent one
            # leaves the receiver as one would.
            allowed_methods=frozenset({"POST"}),
            raise_on_status=True,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    def post(self, document: dict[str, Any], what: str) -> None:
        try:
            response = self.session.post(
                self.url, data=encode(document), headers={"Content-Type": "application/json"}, timeout=self.timeout
            )
        except requests.exceptions.RetryError as exc:
            raise WebhookRefused(f"{where(self.url)} kept refusing {what}: {_reason(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise WebhookRefused(f"{where(self.url)} could not be reached for {what}: {_reason(exc)}") from None
        if response.status_code >= 300:
            raise WebhookRefused(f"{where(self.url)} refused {what}: HTTP {response.status_code}")

    def close(self) -> None:
        self.session.close()


def _json_value(value: Any) -> Any:
    # The SDK hands dates and date-times over parsed (its schema says format: date): back to ISO text.
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, default=_json_value, separators=(",", ":")).encode()


def _reason(exc: Exception) -> str:
    # urllib3's reason ("too many 503 error responses", "Connection refused"), without the URL it quotes.
    reason = getattr(getattr(exc.args[0] if exc.args else None, "reason", None), "args", None)
    text = str(reason[0]) if reason else type(exc).__name__
    return text.split(": ", 1)[-1] if "http" in text else text
