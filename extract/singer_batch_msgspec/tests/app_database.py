"""A small app database, shaped like the generator's (keys, text, money, flags, times, a composite key), with the
values a batch file must carry as the SDK carries them: NULLs, quotes, non-ASCII, many digits, times with and without
a zone."""

from __future__ import annotations

from typing import Any

import psycopg2  # tap-postgres' own driver

from tests.postgres import Connection

DDL = """
create table public.products (
    product_id integer primary key,
    sku text not null,
    product_name text,
    unit_price numeric(10,2),
    weight_kg numeric,
    is_active boolean,
    launched_on date,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create table public.orders (
    order_id bigint primary key,
    customer_id integer,
    order_status text not null,
    note text,
    ordered_at timestamp not null,
    updated_at timestamptz not null
);
create table public.deleted_records (
    table_name text not null,
    record_id integer not null,
    deleted_at timestamptz not null,
    primary key (table_name, record_id)
);
insert into public.products
select
    i,
    'SKU-' || lpad(i::text, 4, '0'),
    case i % 4 when 0 then null when 1 then 'Linen "Coast" throw, 2m' when 2 then 'Tasse à café 例え' else 'Lamp' end,
    case when i % 5 = 0 then null else (i * 7.35)::numeric(10,2) end,
    case when i % 3 = 0 then null else 1234567.000001 * i end,
    case i % 3 when 0 then null when 1 then true else false end,
    date '2025-11-01' + i,
    timestamptz '2025-11-01 09:00:00+00' + i * interval '1 hour',
    timestamptz '2026-01-01 10:30:00.123456+00' + i * interval '1 minute'
from generate_series(1, 20) as i;
insert into public.orders
select
    i::bigint * 1000000000,
    case when i % 7 = 0 then null else i % 20 + 1 end,
    (array['placed', 'shipped', 'returned'])[i % 3 + 1],
    case when i % 2 = 0 then null else 'line one' || chr(10) || 'line two, with a comma' end,
    timestamp '2026-01-02 08:00:00' + i * interval '90 seconds',
    timestamptz '2026-01-02 08:00:00+01' + i * interval '1 minute'
from generate_series(1, 30) as i;
insert into public.deleted_records values
    ('orders', 7, timestamptz '2026-01-03 12:00:00+00'),
    ('customers', 3, timestamptz '2026-01-03 12:00:01+00'),
    ('orders', 8, timestamptz '2026-01-03 12:00:02+00');
"""
# Each table's replication key, as meltano/extractors.meltano.yml sets them (INCREMENTAL).
REPLICATION_KEYS = {"products": "updated_at", "orders": "updated_at", "deleted_records": "deleted_at"}


# The settings of the session's database, once conftest.py has started and filled it.
_started: dict[str, Any] = {}


def create(connection: Connection) -> None:
    """The tables and rows above, in the server's database; tap_config() then gives the tap's settings for it."""
    with (
        psycopg2.connect(
            host=connection.host,
            port=connection.port,
            user=connection.user,
            password=connection.password,
            dbname=connection.database,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(DDL)
    conn.close()
    _started.update(
        host=connection.host,
        port=connection.port,
        user=connection.user,
        password=connection.password,
        database=connection.database,
        filter_schemas=["public"],
    )


def tap_config() -> dict[str, Any]:
    """tap-postgres' settings for the database, as meltano/extractors.meltano.yml gives them (without batch_config)."""
    assert _started, "the tests' PostgreSQL is not started (tests/conftest.py starts it)"
    return dict(_started)


def selected_catalog(discovered: dict[str, Any]) -> dict[str, Any]:
    """The discovered catalog with every stream and column selected and each table incremental on its key, as
    Meltano's `select: public-<table>.*` and `metadata:` settings make it (tap-postgres selects nothing itself)."""
    streams = []
    for stream in discovered["streams"]:
        metadata = []
        for entry in stream["metadata"]:
            entry = {**entry, "metadata": {**entry["metadata"], "selected": True}}
            if not entry["breadcrumb"]:
                entry["metadata"]["replication-method"] = "INCREMENTAL"
                entry["metadata"]["replication-key"] = REPLICATION_KEYS[stream["table_name"]]
            metadata.append(entry)
        streams.append({**stream, "metadata": metadata})
    return {**discovered, "streams": streams}
