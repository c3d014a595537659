"""The suppliers' API tokens: one bearer token per issue, shown once, stored only as its SHA-256.

A token is `twk_<id>_<secret>`: the id (public, for listing and revoking) finds the record, the secret's 256 random
bits make a salt or a slow hash pointless. The store is a JSON file in the data folder (never in the repository),
mode 0600, rewritten whole through a temporary file and os.replace under a lock: a reader sees the old file or the
new one. The API re-reads it when it changes, so a revocation holds from the next request without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

PREFIX = "twk"
TOKEN_PATTERN = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(store: Path) -> dict[str, dict[str, Any]]:
    try:
        document = json.loads(store.read_text())
    except FileNotFoundError:
        return {}
    return dict(document.get("tokens", {}))


def _write(store: Path, tokens: dict[str, dict[str, Any]]) -> None:
    temporary = store.with_name(f".{store.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"version": 1, "tokens": tokens}, file, indent=2, sort_keys=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, store)
    directory = os.open(store.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """The store's records, to change in place; written back on success. One writer at a time (issue, revoke)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(store.with_name(f".{store.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tokens = _read(store)
        yield tokens
        _write(store, tokens)
    finally:
        os.close(lock)


def _published_supplier(settings: Settings, supplier_id: int) -> bool:
    from tidewater.serve import published

    with published.connect(settings) as con:
        found = con.execute("select count(*) from marts.dim_suppliers where supplier_id = ?", [supplier_id]).fetchone()
    return bool(found and found[0])


def issue(settings: Settings, supplier_id: int, store: Path | None = None) -> str:
    """A new token for a supplier of the published copy; only its hash is kept, so this is the one time it is seen."""
    if not _published_supplier(settings, supplier_id):
        raise TidewaterError(f"no supplier {supplier_id} in the published data")
    store = store or settings.api_token_store
    with _locked(store) as tokens:
        token_id = secrets.token_hex(6)
        while token_id in tokens:
            token_id = secrets.token_hex(6)
        token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        tokens[token_id] = {"supplier_id": supplier_id, "sha256": _hash(token), "issued_at": _now(), "revoked_at": None}
    return token


def revoke(
    settings: Settings, *, token_id: str | None = None, supplier_id: int | None = None, store: Path | None = None
) -> list[str]:
    """Revoke one token (by id) or every active token of a supplier; returns the ids revoked."""
    if (token_id is None) == (supplier_id is None):
        raise TidewaterError("revoke one token id or one supplier's tokens")
    store = store or settings.api_token_store
    with _locked(store) as tokens:
        if token_id is not None:
            if token_id not in tokens:
                raise TidewaterError(f"no token {token_id!r}")
            chosen = [token_id] if tokens[token_id]["revoked_at"] is None else []
        else:
            chosen = [key for key, record in tokens.items() if record["supplier_id"] == supplier_id]
            if not chosen:
                raise TidewaterError(f"supplier {supplier_id} has no tokens")
            chosen = [key for key in chosen if tokens[key]["revoked_at"] is None]
        for key in chosen:
            tokens[key]["revoked_at"] = _now()
    return chosen


def listing(settings: Settings, store: Path | None = None) -> list[dict[str, Any]]:
    """Every token's id, supplier and dates (never its hash), oldest first."""
    tokens = _read(store or settings.api_token_store)
    return sorted(
        ({"token_id": key, **{k: v for k, v in record.items() if k != "sha256"}} for key, record in tokens.items()),
        key=lambda record: (record["issued_at"], record["token_id"]),
    )


@dataclass(frozen=True)
class Verdict:
    """A token's check: the supplier it grants, or why not (`revoked` answers 403, anything else 401)."""

    supplier_id: int | None
    revoked: bool = False


class TokenChecker:
    """Checks bearer tokens against the store, re-read whenever the file is replaced (a new inode or mtime)."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._tokens: dict[str, dict[str, Any]] = {}

    def _current(self) -> dict[str, dict[str, Any]]:
        try:
            status = self.store.stat()
            signature: tuple[int, int, int] | None = (status.st_ino, status.st_mtime_ns, status.st_size)
        except FileNotFoundError:
            signature = None
        with self._lock:
            if signature != self._signature:
                self._tokens = _read(self.store) if signature else {}
                self._signature = signature
            return self._tokens

    def check(self, token: str) -> Verdict:
        match = TOKEN_PATTERN.fullmatch(token)
        if not match:
            return Verdict(None)
        record = self._current().get(match.group(1))
        if record is None or not hmac.compare_digest(record["sha256"], _hash(token)):
            return Verdict(None)
        if record["revoked_at"] is not None:
            return Verdict(None, revoked=True)
        return Verdict(int(record["supplier_id"]))
