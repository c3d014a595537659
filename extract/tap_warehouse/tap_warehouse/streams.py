"""The two streams: contacts and list memberships, only what changed for the configured destination."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from singer_sdk import Stream
from singer_sdk import typing as th

from tap_warehouse.changes import CONTACTS, MEMBERSHIPS, Entity, changes

# Set on a deletion (the key only, every attribute null); the loaders delete the destination's row.
DELETED_AT = th.Property("_sdc_deleted_at", th.DateTimeType)


class ChangesStream(Stream):
    """A full read of the changes each time: the increment is the warehouse's comparison with what the destination
    has (its synced_* rows), not a bookmark, so the tap keeps no state."""

    entity: ClassVar[Entity]

    def get_records(self, context: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        yield from changes(
            Path(self.config["warehouse"]).expanduser(),
            self.config.get("schema") or "reverse_etl",
            self.config["destination"],
            self.entity,
        )


class ContactsStream(ChangesStream):
    """Non-personal attributes only: no email, name or pseudonym ever leaves the warehouse."""

    name = "contacts"
    primary_keys = ("customer_id",)
    entity = CONTACTS
    schema = th.PropertiesList(
        th.Property("customer_id", th.IntegerType, required=True),
        th.Property("country_code", th.StringType),
        th.Property("acquisition_channel_code", th.StringType),
        th.Property("signup_date", th.DateType),
        th.Property("lifetime_orders", th.IntegerType),
        DELETED_AT,
    ).to_dict()


class ListMembershipsStream(ChangesStream):
    name = "list_memberships"
    primary_keys = ("audience_id", "customer_id")
    entity = MEMBERSHIPS
    schema = th.PropertiesList(
        th.Property("audience_id", th.StringType, required=True),
        th.Property("customer_id", th.IntegerType, required=True),
        DELETED_AT,
    ).to_dict()
