"""What changed for a destination: the desired rows compared with the rows it has per its last successful sync.

Both sides live in the warehouse (schema `reverse_etl` by default): `desired_<entity>` (views over the marts, kept
by the sync step) and `synced_<entity>` (the rows each destination has, a `destination` column, written by the sync
step only after the loader succeeded). New or changed rows come back as upserts (every column, `_sdc_deleted_at`
null); rows the destination has and no longer should come back as deletions (the key only, `_sdc_deleted_at` set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Entity:
    """One stream: its tables' stem, its key and its other columns (compared to tell a changed row)."""

    name: str
    keys: tuple[str, ...]
    attributes: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.attributes)


CONTACTS = Entity(
    "contacts", ("customer_id",), ("country_code", "acquisition_channel_code", "signup_date", "lifetime_orders")
)
MEMBERSHIPS = Entity("memberships", ("audience_id", "customer_id"), ())


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def changes_sql(entity: Entity, schema: str) -> str:
    """Upserts then deletions, in key order; one parameter, the destination (twice)."""
    desired = f"{_quoted(schema)}.{_quoted('desired_' + entity.name)}"
    synced = f"{_quoted(schema)}.{_quoted('synced_' + entity.name)}"
    on = " and ".join(f"s.{_quoted(k)} = d.{_quoted(k)}" for k in entity.keys)
    missing = " and ".join(f"s.{_quoted(k)} is null" for k in entity.keys)
    # A changed row: any attribute differs, nulls compared as values.
    changed = " or ".join(f"d.{_quoted(a)} is distinct from s.{_quoted(a)}" for a in entity.attributes)
    upserted = missing + (f" or {changed}" if changed else "")
    key_only = [f"s.{_quoted(k)}" for k in entity.keys] + [f"null as {_quoted(a)}" for a in entity.attributes]
    gone = " and ".join(f"d.{_quoted(k)} is null" for k in entity.keys)
    return f"""
        with synced as (select * from {synced} where destination = ?),
        upserts as (
            select {", ".join(f"d.{_quoted(c)}" for c in entity.columns)}, false as is_deleted
            from {desired} as d left join synced as s on {on}
            where {upserted}
        ),
        deletions as (
            select {", ".join(key_only)}, true as is_deleted
            from synced as s left join {desired} as d on {on}
            where {gone}
        )
        select * from upserts
        union all
        select * from deletions
        order by is_deleted, {", ".join(_quoted(k) for k in entity.keys)}
    """


def _value(value: Any) -> Any:
    # Dates as ISO text: the Singer schema says `format: date`.
    return value.isoformat() if hasattr(value, "isoformat") else value


def changes(warehouse: Path, schema: str, destination: str, entity: Entity) -> Iterator[dict[str, Any]]:
    """The records to send: every column of an upsert, the key of a deletion, `_sdc_deleted_at` set on deletions.
    The warehouse is opened read-only: the sync step, its only writer here, runs alone."""
    deleted_at = datetime.now(UTC).isoformat()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(changes_sql(entity, schema), [destination])
        names: Sequence[str] = [d[0] for d in cursor.description or []]
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                record = dict(zip(names, row, strict=True))
                is_deleted = record.pop("is_deleted")
                yield {
                    **{name: _value(record[name]) for name in entity.columns},
                    "_sdc_deleted_at": deleted_at if is_deleted else None,
                }
