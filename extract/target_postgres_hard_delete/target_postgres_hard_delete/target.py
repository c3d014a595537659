"""The target: meltanolabs-target-postgres with a sink that deletes what a batch marks deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy
from target_postgres.sinks import PostgresSink
from target_postgres.target import TargetPostgres

DELETED_AT = "_sdc_deleted_at"


class HardDeleteSink(PostgresSink):
    """After the batch's merge (insert new keys, update the rest), the keys whose record carries _sdc_deleted_at are
    deleted, in the batch's transaction: the destination never shows a half-applied batch."""

    def upsert(
        self,
        from_table: sqlalchemy.Table,
        to_table: sqlalchemy.Table,
        schema: dict[str, Any],
        join_keys: Sequence[str],
        connection: sqlalchemy.engine.Connection,
    ) -> int | None:
        result = super().upsert(from_table, to_table, schema, join_keys, connection)
        if self.config.get("hard_delete") and join_keys and DELETED_AT in from_table.columns:
            marked = (
                sqlalchemy.select(sqlalchemy.literal(1))
                .select_from(from_table)
                .where(*(from_table.columns[key] == to_table.columns[key] for key in join_keys))
                .where(from_table.columns[DELETED_AT].is_not(None))
            )
            connection.execute(sqlalchemy.delete(to_table).where(marked.exists()))
        return result


class TargetPostgresHardDelete(TargetPostgres):
    name = "target-postgres-hard-delete"
    default_sink_class = HardDeleteSink


if __name__ == "__main__":
    TargetPostgresHardDelete.cli()
