"""The reverse ETL's tables in the warehouse (schema reverse_etl), all written by the sync step alone:

- desired_memberships, desired_contacts: views, what should be at every destination: the syncable audience
  memberships (marts.fct_audience_memberships.is_syncable) of customers in marts.dim_customers, and those customers'
  non-personal attributes. The tap (extract/tap_warehouse) reads them, and so does `record` below: one definition.
- synced_memberships, synced_contacts: what each destination has (column `destination`), as of its last
  successful sync. Changed only after the loader succeeded: a failed delivery is sent again at the next sync.
- sync_log: one row per sync, destination and audience, with what was sent, updated, removed, rejected, blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

SCHEMA = "reverse_etl"
MEMBERSHIPS = "marts.fct_audience_memberships"
CUSTOMERS = "marts.dim_customers"
# The contact's attributes that may leave the warehouse: none identifies a person on its own.
CONTACT_ATTRIBUTES = ("country_code", "acquisition_channel_code", "signup_date", "lifetime_orders")

VIEWS = f"""
create schema if not exists {SCHEMA};
create or replace view {SCHEMA}.desired_memberships as
select distinct memberships.audience_id, memberships.customer_id
from {MEMBERSHIPS} as memberships
inner join {CUSTOMERS} as customers on customers.customer_id = memberships.customer_id
where memberships.is_syncable and memberships.audience_id is not null;
create or replace view {SCHEMA}.desired_contacts as
select customers.customer_id, {", ".join(f"customers.{a}" for a in CONTACT_ATTRIBUTES)}
from {CUSTOMERS} as customers
where customers.customer_id in (select customer_id from {SCHEMA}.desired_memberships);
create table if not exists {SCHEMA}.synced_memberships (
    destination varchar not null, audience_id varchar not null, customer_id bigint not null,
    synced_at timestamp not null, primary key (destination, audience_id, customer_id)
);
create table if not exists {SCHEMA}.synced_contacts (
    destination varchar not null, customer_id bigint not null,
    country_code varchar, acquisition_channel_code varchar, signup_date date, lifetime_orders bigint,
    synced_at timestamp not null, primary key (destination, customer_id)
);
create table if not exists {SCHEMA}.sync_log (
    run_id varchar not null, business_day date not null, synced_at timestamp not null, destination varchar not null,
    audience_id varchar not null, rows_sent bigint not null, rows_updated bigint not null,
    rows_removed bigint not null, rows_rejected bigint not null, rows_blocked bigint not null
);
"""

_CHANGED = " or ".join(f"d.{a} is distinct from s.{a}" for a in CONTACT_ATTRIBUTES)

# Per audience, for one destination (the parameter), before its synced rows move on:
# sent     memberships new to the destination;
# updated  members kept whose contact's attributes changed (the contact is sent again);
# removed  memberships the destination has that are no longer desired (not syncable any more, left the audience);
# rejected syncable memberships that cannot be sent (no such customer in the marts, no audience);
# blocked  memberships that are not syncable (no marketing consent, account closed): never sent.
FIGURES = f"""
with synced as (select * from {SCHEMA}.synced_memberships where destination = $destination),
synced_contacts as (select * from {SCHEMA}.synced_contacts where destination = $destination),
changed_contacts as (
    select d.customer_id
    from {SCHEMA}.desired_contacts as d
    inner join synced_contacts as s on s.customer_id = d.customer_id
    where {_CHANGED}
),
audiences as (
    select audience_id from {MEMBERSHIPS} where audience_id is not null
    union
    select audience_id from synced
),
sent as (
    select d.audience_id, count(*) as n
    from {SCHEMA}.desired_memberships as d
    left join synced as s on s.audience_id = d.audience_id and s.customer_id = d.customer_id
    where s.customer_id is null
    group by all
),
updated as (
    select d.audience_id, count(*) as n
    from {SCHEMA}.desired_memberships as d
    inner join synced as s on s.audience_id = d.audience_id and s.customer_id = d.customer_id
    where d.customer_id in (select customer_id from changed_contacts)
    group by all
),
removed as (
    select s.audience_id, count(*) as n
    from synced as s
    left join {SCHEMA}.desired_memberships as d on d.audience_id = s.audience_id and d.customer_id = s.customer_id
    where d.customer_id is null
    group by all
),
rejected as (
    select m.audience_id, count(*) as n
    from {MEMBERSHIPS} as m
    left join {SCHEMA}.desired_memberships as d on d.audience_id = m.audience_id and d.customer_id = m.customer_id
    where m.is_syncable and d.customer_id is null
    group by all
),
blocked as (
    select audience_id, count(*) as n from {MEMBERSHIPS} where not coalesce(is_syncable, false) group by all
)
select
    audiences.audience_id,
    coalesce(sent.n, 0), coalesce(updated.n, 0), coalesce(removed.n, 0), coalesce(rejected.n, 0),
    coalesce(blocked.n, 0)
from audiences
left join sent using (audience_id)
left join updated using (audience_id)
left join removed using (audience_id)
left join rejected using (audience_id)
left join blocked using (audience_id)
order by audiences.audience_id
"""

# The destination now has what was desired: the same comparison as the tap's, applied to its synced rows.
ADVANCE = [
    statement
    for statement in f"""
delete from {SCHEMA}.synced_memberships as s
where destination = $destination and not exists (
    select 1 from {SCHEMA}.desired_memberships as d
    where d.audience_id = s.audience_id and d.customer_id = s.customer_id
);
insert into {SCHEMA}.synced_memberships
select $destination, d.audience_id, d.customer_id, $synced_at
from {SCHEMA}.desired_memberships as d
where not exists (
    select 1 from {SCHEMA}.synced_memberships as s
    where s.destination = $destination and s.audience_id = d.audience_id and s.customer_id = d.customer_id
);
delete from {SCHEMA}.synced_contacts as s
where destination = $destination
    and not exists (select 1 from {SCHEMA}.desired_contacts as d where d.customer_id = s.customer_id);
insert or replace into {SCHEMA}.synced_contacts
select $destination, d.customer_id, {", ".join(f"d.{a}" for a in CONTACT_ATTRIBUTES)}, $synced_at
from {SCHEMA}.desired_contacts as d
left join {SCHEMA}.synced_contacts as s on s.destination = $destination and s.customer_id = d.customer_id
where s.customer_id is null or {_CHANGED};
""".split(";")
    if statement.strip()
]


@dataclass(frozen=True)
class SyncResult:
    """One destination and audience of one sync (a row of reverse_etl.sync_log)."""

    run_id: str
    business_day: date
    synced_at: datetime
    destination: str
    audience_id: str
    rows_sent: int
    rows_updated: int
    rows_removed: int
    rows_rejected: int
    rows_blocked: int


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The views and tables, created or brought up to date; fails clearly before the audiences mart exists."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name in ('fct_audience_memberships', 'dim_customers')"
    ).fetchone()
    if not found or found[0] < 2:
        from tidewater.orchestrate.errors import TidewaterError

        raise TidewaterError(f"{MEMBERSHIPS} or {CUSTOMERS} is not built yet: run the pipeline first (`make run`)")
    con.execute(VIEWS)


def record(
    con: duckdb.DuckDBPyConnection, *, run_id: str, business_day: date, synced_at: datetime, destination: str
) -> list[SyncResult]:
    """After a destination's loader succeeded: its figures into sync_log and its synced rows moved on, in one
    transaction (a crash in between leaves the old rows, and the next sync sends the same changes again)."""
    con.execute("begin transaction")
    try:
        figures = con.execute(FIGURES, {"destination": destination}).fetchall()
        results = [
            SyncResult(run_id, business_day, synced_at, destination, str(audience), *(int(n) for n in counts))
            for audience, *counts in figures
        ]
        if results:
            con.executemany(
                f"insert into {SCHEMA}.sync_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [r.run_id, r.business_day, r.synced_at, r.destination, r.audience_id, r.rows_sent,
                     r.rows_updated, r.rows_removed, r.rows_rejected, r.rows_blocked]
                    for r in results
                ],
            )  # fmt: skip
        values = {"destination": destination, "synced_at": synced_at}
        for statement in ADVANCE:
            con.execute(statement, {name: value for name, value in values.items() if f"${name}" in statement})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return results
