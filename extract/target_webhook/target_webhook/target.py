"""The target and its sink: one POST per batch of a stream's records."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

from target_webhook.client import WebhookClient

DELETED_AT = "_sdc_deleted_at"


class WebhookSink(BatchSink):
    """Records become changes: `delete` with the key when _sdc_deleted_at is set, else `upsert` with the attributes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = WebhookClient(
            self.config["url"],
            max_retries=int(self.config.get("max_retries", 5)),
            backoff_factor=float(self.config.get("backoff_factor", 0.5)),
            timeout=float(self.config.get("timeout", 30)),
        )

    @property
    def include_sdc_metadata_properties(self) -> bool:
        # The SDK strips every _sdc_* property from records unless metadata is added; _sdc_deleted_at is how a
        # deletion arrives, so it must stay (the other metadata is never sent: see change()).
        return True

    def change(self, record: dict[str, Any]) -> dict[str, Any]:
        keys = {key: record.get(key) for key in self.key_properties}
        if record.get(DELETED_AT):
            return {"op": "delete", "keys": keys, "attributes": {}}
        attributes = {
            name: value for name, value in record.items() if name not in keys and not name.startswith("_sdc_")
        }
        return {"op": "upsert", "keys": keys, "attributes": attributes}

    def process_batch(self, context: dict[str, Any]) -> None:
        records = context.get("records", [])
        if not records:
            return
        document = {"stream": self.stream_name, "changes": [self.change(record) for record in records]}
        self.client.post(document, f"a batch of {len(records)} {self.stream_name} changes")
        self.logger.info("posted %d %s changes", len(records), self.stream_name)

    def clean_up(self) -> None:
        self.client.close()
        super().clean_up()

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        context.setdefault("records", []).append(record)


class TargetWebhook(Target):
    name = "target-tidewater-webhook"
    default_sink_class = WebhookSink

    config_jsonschema = th.PropertiesList(
        th.Property("url", th.StringType, required=True, secret=True, description="Where the changes are POSTed."),
        th.Property("max_retries", th.IntegerType, default=5, description="Retries of a 5xx or a connection error."),
        th.Property("backoff_factor", th.NumberType, default=0.5, description="Exponential backoff's base, seconds."),
        th.Property("timeout", th.NumberType, default=30, description="Seconds for one request."),
    ).to_dict()


if __name__ == "__main__":
    TargetWebhook.cli()
