"""PostgreSQL as the warehouse: database `warehouse` on the data folder's embedded PostgreSQL (not the app's
database), filled from the lake and built by dbt's `postgres` target (profiles.yml).

Three roles, each with only what its job needs:
- LOADER owns the raw schemas (the lake's: raw_app, raw_events, raw_marketing, audit, privacy) and copies the lake
  into them; what it creates, TRANSFORMER may read (default privileges).
- TRANSFORMER may create schemas in `warehouse` (dbt's staging, marts, ... and Elementary's) and read raw: the role
  in profiles.yml's `postgres` target.
- READER may read the marts and metrics, nothing else: dbt's `grants` (dbt_project.yml) give it SELECT on each model
  there, and it may use those two schemas, which are made here, owned by TRANSFORMER.
Passwords are random, kept in postgres/warehouse.json (mode 600), and reach dbt through its environment only.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tidewater.generate.postgres import Connection, ensure_login_role
from tidewater.lake import export as lake
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

DATABASE = "warehouse"
LOADER = "warehouse_loader"
TRANSFORMER = "warehouse_transformer"
READER = "warehouse_reader"
ROLES = (LOADER, TRANSFORMER, READER)
# The schemas READER may read (dbt_project.yml's `grants` on their models).
SERVED_SCHEMAS = ("marts", "metrics")


@dataclass(frozen=True)
class Warehouse:
    """Where the PostgreSQL warehouse is, and each role's password."""

    host: str
    port: int
    passwords: dict[str, str]

    def conninfo(self, role: str) -> str:
        return f"postgresql://{role}:{self.passwords[role]}@{self.host}:{self.port}/{DATABASE}"

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml's `postgres` target reads: dbt builds as TRANSFORMER."""
        return {
            "TIDEWATER_WAREHOUSE_PG_HOST": self.host,
            "TIDEWATER_WAREHOUSE_PG_PORT": str(self.port),
            "TIDEWATER_WAREHOUSE_PG_USER": TRANSFORMER,
            "TIDEWATER_WAREHOUSE_PG_PASSWORD": self.passwords[TRANSFORMER],
            "TIDEWATER_WAREHOUSE_PG_DATABASE": DATABASE,
        }


def credentials_file(postgres_dir: Path) -> Path:
    return postgres_dir / "warehouse.json"


def _passwords(postgres_dir: Path) -> dict[str, str]:
    path = credentials_file(postgres_dir)
    if path.exists():
        return {role: str(password) for role, password in json.loads(path.read_text()).items()}
    passwords = {role: secrets.token_urlsafe(18) for role in ROLES}
    # Created 600 (not chmod-ed after writing): the passwords are never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(passwords) + "\n")
    return passwords


def ensure(connection: Connection, postgres_dir: Path, raw_schemas: list[str]) -> Warehouse:
    """Create the database, the roles and their schemas if missing (and set the roles' passwords again), as the
    server's owner. Idempotent."""
    import psycopg
    from psycopg import sql

    passwords = _passwords(postgres_dir)
    server = connection.conninfo.rsplit("/", 1)[0]
    database = sql.Identifier(DATABASE)
    with psycopg.connect(server + "/postgres", autocommit=True, connect_timeout=10) as conn:
        for role, password in passwords.items():
            ensure_login_role(conn, role, password)
        if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(database))
        # PUBLIC may connect to a new database and make temporary tables there: only these roles.
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(database))
        for role in ROLES:
            conn.execute(sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(role)))
        conn.execute(
            sql.SQL("grant create, temporary on database {} to {}").format(database, sql.Identifier(TRANSFORMER))
        )
    loader, transformer, reader = (sql.Identifier(role) for role in ROLES)
    with psycopg.connect(f"{server}/{DATABASE}", autocommit=True, connect_timeout=10) as conn:
        conn.execute("revoke create on schema public from public")
        for name in raw_schemas:
            schema = sql.Identifier(name)
            conn.execute(sql.SQL("create schema if not exists {} authorization {}").format(schema, loader))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, transformer))
            conn.execute(
                sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                    loader, schema, transformer
                )
            )
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, transformer))
        for name in SERVED_SCHEMAS:
            schema = sql.Identifier(name)
            conn.execute(sql.SQL("create schema if not exists {} authorization {}").format(schema, transformer))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, reader))
    return Warehouse(connection.host, connection.port, passwords)


# A table's columns and their exact types (format_type keeps numeric's precision, varchar's length).
COLUMNS = """
select attname, format_type(atttypid, atttypmod) from pg_attribute
where attrelid = to_regclass($1) and attnum > 0 and not attisdropped order by attnum
"""


def _columns(cursor: Any, relation: str) -> dict[str, str]:
    cursor.execute(COLUMNS, (relation,))
    return dict(cursor.fetchall())


def _replace_rows(cursor: Any, schema: str, name: str, rows: Any) -> None:
    """Make raw table schema.name hold `rows` (Arrow), in the caller's transaction. The rows are copied into a table
    of their own first (COPY, the lake's columns), then moved in: the raw table is emptied and filled, not dropped, so
    dbt's staging views on it and their grants stay. A column new in the lake is added; a column whose type changed
    stops the load, naming it."""
    incoming = f"_lake_{name}"
    cursor.adbc_ingest(incoming, rows, mode="replace", db_schema_name=schema)
    target, staged = f'"{schema}"."{name}"', f'"{schema}"."{incoming}"'
    existing = _columns(cursor, target)
    if not existing:
        cursor.execute(f'alter table {staged} rename to "{name}"')
        return
    columns = _columns(cursor, staged)
    for column, kind in columns.items():
        if column not in existing:
            cursor.execute(f'alter table {target} add column "{column}" {kind}')
        elif existing[column] != kind:
            raise TidewaterError(
                f"{schema}.{name}.{column} is {kind} in the lake but {existing[column]} in PostgreSQL's raw: drop "
                f"table {schema}.{name} in database {DATABASE} (as {LOADER}), then build again"
            )
    listed = ", ".join(f'"{column}"' for column in columns)
    cursor.execute(f"truncate {target}")
    cursor.execute(f"insert into {target} ({listed}) select {listed} from {staged}")
    cursor.execute(f"drop table {staged}")


def load_lake(target: Warehouse, lake_dir: Path) -> dict[str, int]:
    """Copy every lake table into its raw schema as LOADER, all in one transaction, so dbt never reads half a load.
    Returns rows per table."""
    from adbc_driver_postgresql import dbapi

    loaded: dict[str, int] = {}
    with duckdb.connect() as lake_reader, dbapi.connect(target.conninfo(LOADER)) as conn:
        with conn.cursor() as cursor:
            for table in lake.tables(lake_dir):
                schema, name = table.split(".")
                rows = lake_reader.execute(f"select * from {lake.read(lake_dir, table)}").to_arrow_table()
                _replace_rows(cursor, schema, name, rows)
                loaded[table] = rows.num_rows
        conn.commit()
    return loaded


def load(settings: Settings, connection: Connection) -> tuple[dict[str, int], dict[str, str]]:
    """The warehouse database and its roles made ready, then the lake copied in: rows per table, and the variables
    dbt's `postgres` target reads (dbt builds as TRANSFORMER)."""
    schemas = sorted({table.split(".")[0] for table in lake.tables(settings.lake_dir)})
    target = ensure(connection, settings.postgres_dir, schemas)
    return load_lake(target, settings.lake_dir), target.dbt_env()
