"""The target end to end on Singer messages, against a real receiver: the documents it POSTs, its retries on 5xx,
its clear failure when the receiver keeps refusing, and no request without records."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from target_webhook.client import WebhookRefused
from target_webhook.target import TargetWebhook

from tests.receiver import receiving

SCHEMA = {
    "type": "SCHEMA",
    "stream": "contacts",
    "key_properties": ["customer_id"],
    "schema": {
        "type": "object",
        "properties": {
            "customer_id": {"type": "integer"},
            "country_code": {"type": ["string", "null"]},
            "signup_date": {"type": ["string", "null"], "format": "date"},
            "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}


def record(customer_id: int, country: str | None, signup: str | None, deleted: str | None = None) -> dict[str, Any]:
    return {
        "type": "RECORD",
        "stream": "contacts",
        "record": {
            "customer_id": customer_id,
            "country_code": country,
            "signup_date": signup,
            "_sdc_deleted_at": deleted,
        },
    }


def run_target(url: str, messages: list[dict[str, Any]], **config: Any) -> None:
    target = TargetWebhook(config={"url": url, "backoff_factor": 0, **config})
    target.listen(file_input=io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))


def test_posts_upserts_and_deletes() -> None:
    with receiving([200]) as receiver:
        run_target(receiver.url, [SCHEMA, record(1, "DE", "2025-01-02"), record(2, None, None, "2026-12-01T00:00:00Z")])
    assert receiver.accepted == [
        {
            "stream": "contacts",
            "changes": [
                {
                    "op": "upsert",
                    "keys": {"customer_id": 1},
                    "attributes": {"country_code": "DE", "signup_date": "2025-01-02"},
                },
                {"op": "delete", "keys": {"customer_id": 2}, "attributes": {}},
            ],
        }
    ]
    assert receiver.content_types == ["application/json"]


def test_retries_5xx_then_delivers_once() -> None:
    with receiving([503, 502, 200]) as receiver:
        run_target(receiver.url, [SCHEMA, record(1, "DE", None)], max_retries=3)
    assert receiver.attempts == 3
    assert len(receiver.accepted) == 1


def test_fails_clearly_when_the_receiver_keeps_refusing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with receiving([503]) as receiver, pytest.raises(WebhookRefused, match="kept refusing") as failure:
        run_target(receiver.url, [SCHEMA, record(1, "DE", None)], max_retries=2)
    assert receiver.attempts == 3  # the first try and two retries
    assert caplog.text.count("webhook: HTTP 503; retrying") == 2
    # The URL's query may hold a secret: never in an error or a log line.
    assert "token" not in str(failure.value)
    assert "token" not in caplog.text


def test_a_4xx_is_not_retried() -> None:
    with receiving([400, 200]) as receiver, pytest.raises(WebhookRefused, match="HTTP 400"):
        run_target(receiver.url, [SCHEMA, record(1, "DE", None)], max_retries=3)
    assert receiver.attempts == 1


def test_no_records_no_request() -> None:
    with receiving([200]) as receiver:
        run_target(receiver.url, [SCHEMA])
    assert receiver.attempts == 0
