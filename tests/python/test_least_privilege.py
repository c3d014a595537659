"""Least privilege and secrets: the extractor reads the app database with a read-only role that may select the app
tables and nothing else, its password lives only in the data folder's env file (mode 600), and detect-secrets keeps
secrets out of the repository (the pre-commit hook and its audited baseline)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from conftest import Built
from helpers import BIN, _env
from psycopg import errors

from tidewater.generate.app_db import table_ddl
from tidewater.generate.postgres import READER, PostgresServer
from tidewater.orchestrate.settings import PROJECT_ROOT

# What tap-postgres selects (meltano/extractors.meltano.yml), the tombstones included.
APP_TABLES = ("customers", "suppliers", "products", "orders", "order_items", "payments", "deleted_records")


def _env_file_values(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _reader_conninfo(env_file: Path, owner_conninfo: str) -> str:
    """The login Meltano reads (user and password from the env file) on the server `owner_conninfo` points at: the
    copy's server listens on a port of its own."""
    env = _env_file_values(env_file)
    where = urlsplit(owner_conninfo)
    user, password = env["TIDEWATER_PG_USER"], env["TIDEWATER_PG_PASSWORD"]
    return f"postgresql://{user}:{password}@{where.hostname}:{where.port}/{env['TIDEWATER_PG_DATABASE']}"


@pytest.fixture(scope="module")
def reader(built: Built, source_db: str) -> Iterator[psycopg.Connection]:
    """The built pipeline's app database (a copy), logged in as Meltano's tap-postgres is."""
    with psycopg.connect(_reader_conninfo(built.settings.env_file, source_db), autocommit=True) as connection:
        yield connection


@pytest.mark.e2e
def test_the_env_file_meltano_reads_holds_the_read_only_role_and_not_the_owner(built: Built) -> None:
    env_file = built.settings.env_file
    owner = PostgresServer(built.settings.postgres_dir).connection()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(built.settings.postgres_dir.joinpath("connection.json").stat().st_mode) == 0o600
    env = _env_file_values(env_file)
    assert env["TIDEWATER_PG_USER"] == READER == "tidewater_reader"
    assert env["TIDEWATER_PG_USER"] != owner.user
    # No assert on the values themselves: pytest would print a password in the failure.
    holds_reader_password = env["TIDEWATER_PG_PASSWORD"] == owner.reader_password and len(owner.reader_password) >= 20
    assert holds_reader_password, "the env file's password is not the read-only role's"
    holds_owner_password = owner.password in env_file.read_text()
    assert not holds_owner_password, "the owner's password is in the env file Meltano reads"


@pytest.mark.e2e
def test_meltano_resolves_tap_postgres_to_the_read_only_role(built: Built) -> None:
    """What the pipeline's `meltano run` gave tap-postgres: the same env file and variables (orchestrate/meltano.py)."""
    result = subprocess.run(
        [
            str(BIN / "meltano"),
            *("--env-file", str(built.settings.env_file), "--environment=dev"),
            *("config", "--unsafe", "print", "--format=json", "tap-postgres"),
        ],
        cwd=PROJECT_ROOT,
        env=_env(built.settings.env()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads(result.stdout)
    assert config["user"] == READER
    owner = PostgresServer(built.settings.postgres_dir).connection()
    is_reader_password = config["password"] == owner.reader_password
    assert is_reader_password, "tap-postgres's resolved password is not the read-only role's"


@pytest.mark.e2e
@pytest.mark.parametrize("table", APP_TABLES)
def test_the_read_only_role_selects_every_app_table(reader: psycopg.Connection, source_db: str, table: str) -> None:
    with psycopg.connect(source_db) as owner:
        expected = owner.execute(f"select count(*) from public.{table}").fetchone()
    assert reader.execute(f"select count(*) from public.{table}").fetchone() == expected
    # The tap's incremental read: the replication key, ordered.
    key = "deleted_at" if table == "deleted_records" else "updated_at"
    reader.execute(f"select * from public.{table} where {key} >= '2000-01-01' order by {key} limit 5").fetchall()


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("insert into public.suppliers values (999999, 'x', now(), now())", "permission denied for table suppliers"),
        ("update public.orders set currency = 'XXX'", "permission denied for table orders"),
        ("delete from public.customers", "permission denied for table customers"),
        ("truncate public.payments", "permission denied for table payments"),
        ("create table public.scratch (a integer)", "permission denied for schema public"),
        (
            "create temporary table scratch (a integer)",
            'permission denied to create temporary tables in database "saltbox"',
        ),
        ("create schema scratch", "permission denied for database saltbox"),
        ("create view public.scratch as select 1 as a", "permission denied for schema public"),
        ("alter table public.orders add column scratch text", "must be owner of table orders"),
        ("drop table public.order_items", "must be owner of table order_items"),
        ("comment on table public.customers is 'scratch'", "must be owner of table customers"),
        ("select * from public._generation", "permission denied for table _generation"),
        ("create role scratch", "permission denied to create role"),
    ],
)
def test_the_read_only_role_can_change_nothing(reader: psycopg.Connection, statement: str, message: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege) as raised:
        reader.execute(statement)
    assert str(raised.value).splitlines()[0] == message


@pytest.mark.e2e
def test_the_read_only_role_cannot_read_another_schema(reader: psycopg.Connection, source_db: str) -> None:
    with psycopg.connect(source_db, autocommit=True) as owner:
        owner.execute("create schema payroll")
        owner.execute("create table payroll.salaries as select 1 as employee_id, 100000 as salary")
        try:
            assert owner.execute("select count(*) from payroll.salaries").fetchone() == (1,)
            with pytest.raises(errors.InsufficientPrivilege) as raised:
                reader.execute("select * from payroll.salaries")
            assert str(raised.value).splitlines()[0] == "permission denied for schema payroll"
        finally:
            owner.execute("drop schema payroll cascade")


@pytest.mark.e2e
def test_the_read_only_role_cannot_connect_to_another_database(built: Built, source_db: str) -> None:
    other = _reader_conninfo(built.settings.env_file, source_db).rsplit("/", 1)[0] + "/postgres"
    with pytest.raises(psycopg.OperationalError, match='permission denied for database "postgres"'):
        psycopg.connect(other, connect_timeout=5)


def test_the_role_is_granted_on_an_existing_database_and_on_tables_created_later(tmp_path: Path) -> None:
    """A data folder from before the role (no reader password, no role) gets both at start; a table the generator
    creates again (the schema-change day) or the app adds stays readable, the bookkeeping table does not."""
    from tidewater.generate.app_db import _ensure_schema

    server = PostgresServer(tmp_path / "postgres")
    connection = server.start()
    try:
        with psycopg.connect(connection.conninfo, autocommit=True) as owner:
            owner.execute(f"drop owned by {READER}")
            owner.execute(f"drop role {READER}")
        old = json.loads(server.connection_file.read_text())
        del old["reader_password"]
        server.connection_file.write_text(json.dumps(old))
        server.stop()

        connection = server.start()
        assert connection.reader_password
        assert stat.S_IMODE(server.connection_file.stat().st_mode) == 0o600
        with psycopg.connect(connection.conninfo) as owner, owner.cursor() as cur:
            _ensure_schema(cur, table_ddl())
        with psycopg.connect(connection.conninfo) as owner, owner.cursor() as cur:
            _ensure_schema(cur, table_ddl("new_column"))  # orders dropped and created with gift_message
            cur.execute("create table public.vouchers (voucher_id integer)")
        with psycopg.connect(connection.reader_conninfo, autocommit=True) as reader:
            assert reader.execute("select gift_message from public.orders").fetchall() == []
            assert reader.execute("select voucher_id from public.vouchers").fetchall() == []
            with pytest.raises(errors.InsufficientPrivilege):
                reader.execute("select * from public._generation")
    finally:
        server.stop()


# -- detect-secrets -----------------------------------------------------------------------------------------------


def _detect_secrets_hook(baseline: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "detect-secrets-hook"), "--baseline", str(baseline), *files],
        cwd=PROJECT_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_repository_holds_no_secret_the_audited_baseline_does_not_list(tmp_path: Path) -> None:
    """What `pre-commit run detect-secrets --all-files` does, on a copy of the baseline: the hook rewrites it (exit 3)
    when only line numbers moved, which is no new secret."""
    baseline = json.loads((PROJECT_ROOT / ".secrets.baseline").read_text())
    found = [secret for secrets in baseline["results"].values() for secret in secrets]
    unaudited = [f"{s['filename']}:{s['line_number']}" for s in found if s.get("is_secret") is not False]
    assert not unaudited, f"run `detect-secrets audit .secrets.baseline` for {unaudited}"
    copy = tmp_path / "baseline.json"
    shutil.copy(PROJECT_ROOT / ".secrets.baseline", copy)
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    files = [name for name in tracked.stdout.splitlines() if name != ".secrets.baseline"]
    result = _detect_secrets_hook(copy, *files)
    assert result.returncode in (0, 3), result.stdout[-3000:]


def test_detect_secrets_fails_on_an_aws_key(tmp_path: Path) -> None:
    leaked = tmp_path / "settings.py"
    leaked.write_text('aws_access_key_id = "' + "AKIA" + 'Z7QK3M5XW2PLR4TN"\n')  # split: this file must pass the hook
    result = _detect_secrets_hook(PROJECT_ROOT / ".secrets.baseline", str(leaked))
    assert result.returncode == 1
    assert "Secret Type: AWS Access Key" in result.stdout
    assert f"Location:    {leaked}:1" in result.stdout
