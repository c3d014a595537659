"""A small warehouse for the tap's tests: the reverse_etl tables the sync step keeps, with known contents."""

from __future__ import annotations

from pathlib import Path

import duckdb

SCHEMA_SQL = """
create schema reverse_etl;
create table reverse_etl.desired_contacts (
    customer_id bigint, country_code varchar, acquisition_channel_code varchar, signup_date date, lifetime_orders bigint
);
create table reverse_etl.desired_memberships (audience_id varchar, customer_id bigint);
create table reverse_etl.synced_contacts (
    destination varchar, customer_id bigint, country_code varchar, acquisition_channel_code varchar,
    signup_date date, lifetime_orders bigint, synced_at timestamp
);
create table reverse_etl.synced_memberships (
    destination varchar, audience_id varchar, customer_id bigint, synced_at timestamp
);
"""

# Desired: contacts 1 (unchanged for crm), 2 (changed: 5 orders, crm has 4), 3 (new); memberships as below.
# crm has contact 4 (no longer desired) and membership (lapsed, 1) (left that audience).
# The webhook destination has nothing yet: everything desired is new to it.
DATA_SQL = """
insert into reverse_etl.desired_contacts values
    (1, 'DE', 'email', '2025-01-02', 3), (2, 'FR', 'organic', '2025-02-03', 5), (3, 'US', null, '2025-03-04', 1);
insert into reverse_etl.desired_memberships values ('repeat', 1), ('repeat', 2), ('lapsed', 3);
insert into reverse_etl.synced_contacts values
    ('crm', 1, 'DE', 'email', '2025-01-02', 3, now()), ('crm', 2, 'FR', 'organic', '2025-02-03', 4, now()),
    ('crm', 4, 'GB', 'paid', '2024-12-01', 9, now());
insert into reverse_etl.synced_memberships values
    ('crm', 'repeat', 1, now()), ('crm', 'lapsed', 1, now()), ('crm', 'repeat', 2, now()), ('crm', 'repeat', 4, now());
"""


def write_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA_SQL)
        con.execute(DATA_SQL)
    return path
