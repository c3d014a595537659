"""No personal value of the source and no secret in any place a run's data goes (issue 18): the warehouse (every
table and view), the serving copies and their exports, dbt's target/ and docs, Elementary's report (its embedded data
decoded), the logs, Meltano's state, batches and run folders, Dagster's storage, the archive. The leak scanner
(leak_scan.py) is proven able to fail by values planted in a copy, each found in its place; its figures go to
test-artifacts/leak-scan.json."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import zlib
from pathlib import Path

import duckdb
import pytest
from conftest import Built
from helpers import ok, tidewater_cli
from leak_scan import (
    NAME_PAIR,
    Hit,
    Needles,
    ScanReport,
    UnreadableStore,
    personal_needles,
    scan,
    secret_needles,
    write_summary,
)

from tidewater.orchestrate.settings import PROJECT_ROOT, Settings
from tidewater.serve.published import current_database

SECRET_KINDS = ("postgres owner password", "postgres reader password", "pseudonym key")


@pytest.fixture(scope="module")
def needles(source_db: str, built: Built) -> Needles:
    return Needles({**personal_needles(source_db), **secret_needles(built.settings)})


@pytest.fixture(scope="module")
def full_scan(built: Built, needles: Needles) -> ScanReport:
    report = scan(built.settings, needles)
    write_summary(report, PROJECT_ROOT / "test-artifacts" / "leak-scan.json")
    return report


def _listed(hits: list[Hit]) -> str:
    """Hits by kind and place, with how many values each and one value's sha256[:12] (never the value)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for hit in hits:
        grouped.setdefault((hit.kind, hit.place), []).append(hit.fingerprint)
    return "\n".join(f"{len(prints)} x {kind} (e.g. {prints[0]}) in {place}"
                     for (kind, place), prints in sorted(grouped.items()))  # fmt: skip


@pytest.mark.e2e
def test_no_personal_value_of_the_source_is_anywhere(full_scan: ScanReport) -> None:
    personal = [hit for hit in full_scan.hits if hit.kind not in SECRET_KINDS]
    assert not personal, f"{len(personal)} personal values found:\n{_listed(personal)}"


@pytest.mark.e2e
def test_no_secret_is_anywhere(full_scan: ScanReport) -> None:
    assert full_scan.values["postgres owner password"] == full_scan.values["postgres reader password"] == 1
    # The run made the key (privacy/pseudonyms.py) if there was none: searched as its file holds it, hex and base64.
    assert full_scan.values.get("pseudonym key", 0) >= 1, "no pseudonym key to search for"
    secrets = [hit for hit in full_scan.hits if hit.kind in SECRET_KINDS]
    assert not secrets, f"secrets found:\n{_listed(secrets)}"
    # Meltano's per-run config files (left by a killed run) hold the tap's settings by design: the owner's alone.
    readable = [path.name for path in full_scan.secret_stores if path.exists() and path.stat().st_mode & 0o077]
    assert not readable, f"readable by others: {readable}"


@pytest.mark.e2e
def test_the_scan_searched_every_value_and_every_place(full_scan: ScanReport, needles: Needles, built: Built) -> None:
    """A scan that found nothing proves something only if it looked: every customer's values, and each store."""
    customers = len(needles["email md5"])
    assert customers >= 90  # scale 0.01: 100 customers
    assert full_scan.values["email"] >= customers
    assert full_scan.values[NAME_PAIR] >= customers - 5  # the same name twice is one needle
    assert full_scan.values["address line"] >= customers - 5
    assert full_scan.values["phone"] > customers / 2
    names = set(full_scan.place_names)
    # The copy `current` points at: the scan reads each copy under its own folder and skips the link, and glob's
    # order is the file system's, so the link itself must not be the one named here.
    serving = current_database(built.settings).resolve()
    serving_place = f"data/{serving.relative_to(built.settings.data_dir.resolve())}"
    expected = {
        "data/warehouse/tidewater.duckdb: raw_app.customers",
        "data/warehouse/tidewater.duckdb: marts.dim_customers",
        "data/warehouse/tidewater.duckdb: snapshots.snp_app__customers",
        "data/dagster/history/runs.db: snapshots",
        "data/dagster/history/runs/index.db: event_logs",
        "data/dbt-target/manifest.json",
        "data/dbt-target/static_index.html",
        "data/elementary/elementary_report.html",
        "data/logs/dbt-build.log",
        "project/.meltano/meltano.db: runs",
        f"{serving_place}: marts.dim_customers",
    }
    assert expected <= names, expected - names
    assert any(name.startswith(f"{serving_place}: exports.") for name in names), "no exports schema in the copy"
    assert any(name.startswith("data/meltano-state/") for name in names)
    # The lake: every source table's Parquet, the customers' pseudonyms among them.
    assert any(name.startswith("data/lake/raw_app/customers/load_day=") for name in names), "the lake not searched"
    # The report's data is base64 JSON: decoded, it must have been searched.
    assert "data/elementary/elementary_report.html (base64)" in full_scan.embedded
    assert full_scan.places["duckdb relations"] >= 100 and full_scan.places["sqlite tables"] >= 10
    assert full_scan.seconds < 60


def _plant_in_report(report_file: Path, key: str, value: str) -> None:
    """Add a field to the report's embedded data (base64 JSON in `JSON.parse(atob('...'))`), re-encoded."""
    html = report_file.read_text()
    match = re.search(r"atob\('([A-Za-z0-9+/=]+)'\)", html)
    assert match, "the report's embedded data has moved: the scanner's decoding must follow it"
    data = json.loads(base64.b64decode(match[1]))
    data[key] = value
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    report_file.write_text(html[: match.start(1)] + encoded + html[match.end(1) :])


@pytest.mark.e2e
@pytest.mark.drill
def test_the_scanner_finds_values_planted_in_each_kind_of_store(drill_folder: Settings) -> None:
    """Values a leak could put anywhere, each planted in one store of a copy: each is found there and only there,
    in whatever form the store keeps it (case changed, JSON-escaped, base64, zlib, gzip, Parquet, DuckDB columns).
    An API token issued on the copy is in no file (its store keeps its hash)."""
    folder = drill_folder
    planted = {
        "email": {"Zeb.Quartermaine77@example.org"},
        NAME_PAIR: {"Zebulon\tQuartermaine"},
        "phone": {"+44 7700 900123"},
        "address line": {"4471 Quillback Crescent"},
        "email md5": {"0123456789abcdef0123456789abcdef"},  # pragma: allowlist secret (made up)
        "postgres reader password": {"planted-Reader-Pa55word-x7Qk"},
        "pseudonym key": {"c0ffee" * 8},
    }
    with duckdb.connect(str(folder.warehouse), read_only=True) as con:
        (supplier,) = con.execute("select min(supplier_id) from marts.dim_suppliers").fetchone()
    token = ok(tidewater_cli("api-token", "issue", str(supplier), data_dir=folder.data_dir)).stdout.strip()
    assert token.startswith("twk_")
    planted["api token"] = {token}

    # A log line, upper-cased (the search ignores case).
    with (folder.logs_dir / "dbt-build.log").open("a") as log:
        log.write("\nuser ZEB.QUARTERMAINE77@EXAMPLE.ORG signed in\n")
    # A table of the warehouse: first and last name in columns of their own, and a phone.
    with duckdb.connect(str(folder.warehouse)) as con:
        con.execute("create schema planted")
        con.execute("create table planted.people as select 'Zebulon' as first_name, 'Quartermaine' as last_name, "
                    "'+44 7700 900123' as phone")  # fmt: skip
    # The report's embedded data: there the value is base64 only.
    _plant_in_report(folder.report_file, "planted_note", "4471 Quillback Crescent")
    # Dagster's run storage: a zlib-compressed snapshot.
    runs = sqlite3.connect(folder.dagster_home / "history" / "runs.db")
    with runs:
        body = zlib.compress(json.dumps({"note": "0123456789ABCDEF0123456789ABCDEF"}).encode())
        runs.execute("update snapshots set snapshot_body = ? where id = (select min(id) from snapshots)", [body])
    runs.close()
    # dbt's target/: a JSON-escaped secret in a compiled file, and a gzip-ed old log.
    compiled = next(folder.dbt_target_dir.glob("run/**/*.sql"))
    compiled.write_text(compiled.read_text() + "\n-- planted-Reader-Pa55word-x7Qk\n")
    (folder.logs_dir / "planted.json").write_text('{"key": "\\u0063\\u0030ff\\u0065e' + "c0ffee" * 7 + '"}')
    # Raw data in the archive (Parquet, compressed: only a reader of Parquet finds it).
    archive = folder.archive_dir / "planted.parquet"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"copy (select 'Zeb.Quartermaine77@example.org' as email) to '{archive}' (compression zstd)")

    report = scan(folder, planted)
    found = {(hit.kind, hit.place) for hit in report.hits}
    assert found == {
        ("email", "data/logs/dbt-build.log"),
        (NAME_PAIR, "data/warehouse/tidewater.duckdb: planted.people"),
        ("phone", "data/warehouse/tidewater.duckdb: planted.people"),
        ("address line", "data/elementary/elementary_report.html (base64)"),
        ("email md5", "data/dagster/history/runs.db: snapshots"),
        ("postgres reader password", f"data/{compiled.relative_to(folder.data_dir)}"),
        ("pseudonym key", "data/logs/planted.json (json-unescaped)"),
        ("email", "data/archive/planted.parquet"),
    }, found


def test_a_binary_file_the_scanner_cannot_read_fails_the_scan(tmp_path: Path) -> None:
    """A new kind of store must not hide values: a file the scanner has no reader for is an error, not a pass."""
    folder = Settings.load(tmp_path / "data")
    folder.logs_dir.mkdir(parents=True)
    (folder.logs_dir / "notes.txt").write_text("nothing personal\n")
    (folder.logs_dir / "cache.bin").write_bytes(b"\x00\x01\x02\xff\xfe" * 100)
    with pytest.raises(UnreadableStore, match=r"data/logs/cache\.bin: a binary file"):
        scan(folder, {"email": {"zeb.quartermaine77@example.org"}})
