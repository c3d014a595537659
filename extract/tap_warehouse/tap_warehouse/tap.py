"""tap-tidewater-warehouse: the audiences' changes for one reverse-ETL destination (contacts, list memberships)."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk import typing as th

from tap_warehouse.streams import ContactsStream, ListMembershipsStream


class TapWarehouse(Tap):
    """Reads the DuckDB warehouse read-only; sends only the changes since the destination's last successful sync."""

    name = "tap-tidewater-warehouse"

    config_jsonschema = th.PropertiesList(
        th.Property("warehouse", th.StringType, required=True, description="The DuckDB warehouse file."),
        th.Property(
            "destination",
            th.StringType,
            required=True,
            description="Whose synced rows the desired rows are compared with (`destination` of synced_*).",
        ),
        th.Property("schema", th.StringType, default="reverse_etl", description="Where desired_* and synced_* are."),
    ).to_dict()

    def discover_streams(self) -> list[ContactsStream | ListMembershipsStream]:
        # Contacts first: a destination meets a contact before its memberships.
        return [ContactsStream(self), ListMembershipsStream(self)]


if __name__ == "__main__":
    TapWarehouse.cli()
