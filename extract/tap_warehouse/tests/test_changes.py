"""What the tap sends: new and changed rows as upserts, rows no longer desired as deletions, nothing else; per
destination; and the warehouse opened read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from tap_warehouse.changes import CONTACTS, MEMBERSHIPS, changes

from tests.warehouse import write_warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return write_warehouse(tmp_path / "warehouse.duckdb")


def sent(warehouse: Path, destination: str, entity: object) -> list[dict[str, object]]:
    return list(changes(warehouse, "reverse_etl", destination, entity))  # type: ignore[arg-type]


def test_contacts_changes_only(warehouse: Path) -> None:
    records = sent(warehouse, "crm", CONTACTS)
    upserts = [{k: v for k, v in r.items() if k != "_sdc_deleted_at"} for r in records if not r["_sdc_deleted_at"]]
    deletions = [r for r in records if r["_sdc_deleted_at"]]
    assert upserts == [
        {"customer_id": 2, "country_code": "FR", "acquisition_channel_code": "organic", "signup_date": "2025-02-03",
         "lifetime_orders": 5},
        {"customer_id": 3, "country_code": "US", "acquisition_channel_code": None, "signup_date": "2025-03-04",
         "lifetime_orders": 1},
    ]  # fmt: skip
    # A deletion carries the key only.
    assert [{k: v for k, v in r.items() if k != "_sdc_deleted_at"} for r in deletions] == [
        {"customer_id": 4, "country_code": None, "acquisition_channel_code": None, "signup_date": None,
         "lifetime_orders": None}
    ]  # fmt: skip


def test_memberships_changes_only(warehouse: Path) -> None:
    records = sent(warehouse, "crm", MEMBERSHIPS)
    assert [(r["audience_id"], r["customer_id"], bool(r["_sdc_deleted_at"])) for r in records] == [
        ("lapsed", 3, False),
        ("lapsed", 1, True),
        ("repeat", 4, True),
    ]


def test_a_new_destination_gets_everything(warehouse: Path) -> None:
    assert [r["customer_id"] for r in sent(warehouse, "webhook", CONTACTS)] == [1, 2, 3]
    assert len(sent(warehouse, "webhook", MEMBERSHIPS)) == 3
    assert not any(r["_sdc_deleted_at"] for r in sent(warehouse, "webhook", MEMBERSHIPS))


def test_nothing_changed_sends_nothing(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from reverse_etl.synced_contacts; delete from reverse_etl.synced_memberships")
        con.execute("insert into reverse_etl.synced_contacts select 'crm', *, now() from reverse_etl.desired_contacts")
        con.execute(
            "insert into reverse_etl.synced_memberships select 'crm', *, now() from reverse_etl.desired_memberships"
        )
    assert sent(warehouse, "crm", CONTACTS) == []
    assert sent(warehouse, "crm", MEMBERSHIPS) == []


def test_reads_while_another_process_reads(warehouse: Path) -> None:
    # Read-only: the tap never takes the writer's lock, so readers (the serving copy, dbt docs) are not in its way.
    with duckdb.connect(str(warehouse), read_only=True):
        assert len(sent(warehouse, "crm", MEMBERSHIPS)) == 3
