"""The secret key of the keyed hash that replaces personal values before the loader writes them.

tap-postgres' stream maps (meltano/extractors.meltano.yml) replace the email, names, phone and street address of a
customer by `pseudonym(key, value)`: HMAC-SHA256 under this key (extract/singer_batch_msgspec/stream_maps.py). The key
is the user's, like the rest of their settings: a file beside config.toml, never in the repository or a data folder,
created on first use (256 random bits, mode 600). The same key gives the same pseudonym in every run, so joins hold;
another key gives other pseudonyms for the same people (docs/security.md: rotating the key).
"""

from __future__ import annotations

import os
import secrets

import duckdb

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

ENV_VAR = "TIDEWATER_PSEUDONYM_KEY"


def pseudonym_key(settings: Settings) -> str:
    """The key (64 hex digits), made and written 0600 on first use."""
    path = settings.pseudonym_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two first runs at once cannot each write a key and leave the other's pseudonyms orphaned.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32) + "\n")
    if path.stat().st_mode & 0o077:
        raise TidewaterError(f"{path} is readable by others: `chmod 600 {path}` (it is the key of every pseudonym)")
    key = path.read_text().strip()
    if len(key) < 32:
        raise TidewaterError(f"{path} holds no usable key (at least 32 characters): delete it to make a new one")
    return key


def env(settings: Settings) -> dict[str, str]:
    """What meltano.yml reads for the stream maps' `stream_map_config.pseudonym_key`."""
    return {ENV_VAR: pseudonym_key(settings)}


# Columns tap-postgres loaded before its stream maps replaced them by pseudonyms.
READABLE_COLUMNS = ("email", "first_name", "last_name", "phone", "address_line")


def check_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Stop when raw still holds readable personal values: a data folder loaded before pseudonymisation. New loads
    add the pseudonym columns beside the old ones, so the old rows would keep their plain values."""
    found = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw_app' and table_name = 'customers' and column_name in (select unnest(?))",
            [list(READABLE_COLUMNS)],
        ).fetchall()
    ]
    if found:
        raise TidewaterError(
            f"raw_app.customers still has readable personal columns ({', '.join(sorted(found))}) from before the "
            "extractor pseudonymised them: build a new data folder (`rm -rf data && make run`; see docs/security.md)"
        )
