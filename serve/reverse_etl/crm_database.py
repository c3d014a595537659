"""The CRM database: `crm` on the data folder's embedded PostgreSQL, its schema owned by a role of its own.

The role (CRM_ROLE) may connect to `crm`, create temporary tables there (the loader merges through them) and owns
schema `crm`, nothing else: not the app database, no other role's tables. Its password is random, kept in
postgres/crm.json (mode 600) beside the server's own connection.json, and reaches Meltano through the sync's
environment only, never a file Meltano or a log reads."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from tidewater.generate.postgres import Connection, ensure_login_role

DATABASE = "crm"
ROLE = "tidewater_crm"
SCHEMA = "crm"


def credentials_file(postgres_dir: Path) -> Path:
    return postgres_dir / "crm.json"


def _password(postgres_dir: Path) -> str:
    path = credentials_file(postgres_dir)
    if path.exists():
        return str(json.loads(path.read_text())["password"])
    password = secrets.token_urlsafe(18)
    # Created 600 (not chmod-ed after writing): the password is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps({"role": ROLE, "password": password}) + "\n")
    return password


def ensure(connection: Connection, postgres_dir: Path) -> dict[str, str]:
    """Create the database, the role and its schema if missing (and set the role's password again), as the server's
    owner. Idempotent. Returns the variables target-postgres-crm reads (meltano/loaders.meltano.yml)."""
    import psycopg
    from psycopg import sql

    password = _password(postgres_dir)
    role = sql.Identifier(ROLE)
    database = sql.Identifier(DATABASE)
    server = connection.conninfo.rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True, connect_timeout=10) as conn:
        ensure_login_role(conn, ROLE, password)
        if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(database))
        # PUBLIC may connect to a new database and make temporary tables there: only this role (and the owner).
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(database))
        conn.execute(sql.SQL("grant connect, temporary on database {} to {}").format(database, role))
    with psycopg.connect(f"{server}/{DATABASE}", autocommit=True, connect_timeout=10) as conn:
        conn.execute("revoke create on schema public from public")
        conn.execute(sql.SQL("create schema if not exists {} authorization {}").format(sql.Identifier(SCHEMA), role))
        conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(SCHEMA), role))
    return {
        "TIDEWATER_CRM_PG_HOST": connection.host,
        "TIDEWATER_CRM_PG_PORT": str(connection.port),
        "TIDEWATER_CRM_PG_USER": ROLE,
        "TIDEWATER_CRM_PG_PASSWORD": password,
        "TIDEWATER_CRM_PG_DATABASE": DATABASE,
    }


def conninfo(connection: Connection) -> str:
    """The owner's connection to the CRM database (to read it, in tests and by hand)."""
    return connection.conninfo.rsplit("/", 1)[0] + "/" + DATABASE
