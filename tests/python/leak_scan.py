"""A leak scanner: search every place a data folder's data goes for given values (personal values of the source,
secrets), case-insensitively, as substrings.

Places: every file under the data folder (Meltano's run folders of its runs too) and the project's `.meltano/`
(Meltano's system database, shared by every data folder), except what `exclusions` lists and says why. Each file is read
for what it holds, not only for its bytes: a DuckDB file table by table and view by view (every column cast to text), a
SQLite file table by table (zlib-compressed blobs inflated: Dagster's snapshots), Parquet through DuckDB, gzip inflated,
and every text's embedded base64 (Elementary's report: `JSON.parse(atob('...'))`) and JSON escapes (`\\u00e9`, `\\"`)
decoded too. A binary file of a kind not known here makes `scan` raise: a new store cannot hide.

A hit names its place and the needle's kind and a short hash, never the value: a failure message must not be a leak
itself. One Aho-Corasick automaton over every needle reads each text once, however many needles.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import gzip
import hashlib
import json
import os
import re
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import duckdb

from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

# Needles shorter than this would match by chance (a two-letter name); they are counted, not searched.
MIN_NEEDLE = 6
# A first and a last name are searched as a pair: both, each a word of its own, within NAME_WINDOW characters of
# each other (one row of a table, one log line, one JSON object), as a needle of kind NAME_PAIR "first<TAB>last".
# A name alone is a street, a city, a brand: it would be found by chance.
NAME_PAIR = "first and last name"
NAME_WINDOW = 200
MIN_NAME = 3
# Binary files whose strings are stored as plain UTF-8 (msgpack's str, pickle's BINUNICODE, protobuf's string): their
# bytes are their text. dbt writes the first two into target/ (partial_parse.msgpack, graph.gpickle); a trained model
# is a joblib pickle (data/ml/models/); Feast's registry is a protobuf file (data/ml/feature_store/registry.db).
PLAIN_STRING_BINARIES = {".msgpack", ".gpickle", ".joblib"}
PLAIN_STRING_FILES = {"registry.db"}
# A run of base64 this long is decoded; shorter ones are words, hashes, ids.
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")
# A database's journal files: pages of the database (their cells' text uncompressed) or an index of them (-shm),
# read through when the database itself is opened, and searched byte by byte too.
DATABASE_SIDE_FILES = (".duckdb.wal", "-wal", "-journal", "-shm")
JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/'])")
ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


class UnreadableStore(Exception):
    """A file the scanner does not know how to read, or a table it could not read: the scan would be blind there."""


@dataclass(frozen=True)
class Hit:
    place: str
    kind: str
    fingerprint: str  # sha256 of the needle, 12 hex: tells needles apart without showing one

    def __str__(self) -> str:
        return f"{self.kind} {self.fingerprint} in {self.place}"


@dataclass
class ScanReport:
    values: dict[str, int]  # needles searched, by kind
    too_short: dict[str, int]  # needles not searched (shorter than MIN_NEEDLE), by kind
    places: Counter[str] = field(default_factory=Counter)  # places read, by reader (file, duckdb relation, ...)
    place_names: list[str] = field(default_factory=list)
    characters: int = 0  # text searched, decoded forms included
    decoded: Counter[str] = field(default_factory=Counter)  # embedded texts decoded (base64, json escapes, zlib)
    excluded: dict[str, str] = field(default_factory=dict)  # path -> why it is not searched
    embedded: list[str] = field(default_factory=list)  # places whose base64 held a text (decoded and searched)
    vanished: list[str] = field(default_factory=list)  # files a concurrent run deleted between listing and reading
    hits: list[Hit] = field(default_factory=list)
    secret_stores: list[Path] = field(default_factory=list)  # met, not searched (SECRET_STORE_PATTERNS)
    seconds: float = 0.0

    def hits_where(self, place_contains: str) -> list[Hit]:
        return [hit for hit in self.hits if place_contains in hit.place]

    def summary(self) -> dict[str, Any]:
        """The figures, for test-artifacts/ and the docs: no value, only kinds, counts and places."""
        return {
            "values_searched": sum(self.values.values()),
            "values_by_kind": self.values,
            "too_short_not_searched": self.too_short,
            "places_searched": sum(self.places.values()),
            "places_by_reader": dict(self.places),
            "characters_searched": self.characters,
            "embedded_texts_decoded": dict(self.decoded),
            "excluded": self.excluded,
            "secret_stores_met_not_searched": len(self.secret_stores),
            "embedded_base64_texts_in": self.embedded,
            "vanished_during_scan": self.vanished,
            "hits": len(self.hits),
            "hits_by_place": dict(Counter(f"{hit.kind} in {hit.place}" for hit in self.hits)),
            "seconds": round(self.seconds, 2),
        }


class Needles(dict[str, set[str]]):
    """Values to search for, by kind. Its repr shows counts only: pytest prints a failing test's arguments, and a
    leak test must not print what it searches for."""

    def __repr__(self) -> str:
        return "Needles(" + ", ".join(f"{kind}: {len(values)}" for kind, values in self.items()) + ")"


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def exclusions(settings: Settings) -> dict[Path, str]:
    """What is not searched, and why: the sources themselves and the secrets' own stores."""
    return {
        settings.postgres_dir: "the source app database (PostgreSQL's files) and connection.json, the passwords' store",
        settings.landing_dir: "the source event files (the landing zone)",
        settings.env_file: "Meltano's env file: holds the read-only role's password by design (mode 600)",
        settings.pseudonym_key_path: "the pseudonym key's own file",
        PROJECT_ROOT / ".meltano" / "extractors": "Meltano's plugin installations (code, no data)",
        PROJECT_ROOT / ".meltano" / "loaders": "Meltano's plugin installations (code, no data)",
        PROJECT_ROOT / ".meltano" / "utilities": "Meltano's plugin installations (code, no data)",
    }


# Files matching these are a secret's own store too, wherever they are: Meltano writes each plugin's resolved config
# (the reader's password, the pseudonym key) to <data folder>/meltano-system/run/<plugin>/ for the plugin to read,
# and deletes it when the run ends; a killed run leaves it. They must be their owner's alone (umask 077:
# orchestrate/commands.py).
SECRET_STORE_PATTERNS = {"run/*/*.config.json": "Meltano's per-run plugin config: the tap's settings by design"}


def roots(settings: Settings) -> list[Path]:
    """The folders searched: the data folder, Meltano's project folder, and where the settings put dbt's target/
    and logs and the token store when they are outside the data folder (the project's own data folder)."""
    found = [settings.data_dir, PROJECT_ROOT / ".meltano"]
    for extra in (settings.dbt_target_dir, settings.dbt_log_dir, settings.api_token_store, settings.archive_dir):
        if not any(extra.is_relative_to(root) for root in found):
            found.append(extra)
    return found


def _whole_word(text: str, start: int, end: int) -> bool:
    """text[start:end + 1] is a word of its own: not a name inside another word ("Ana" in "analytics")."""
    return (start == 0 or not text[start - 1].isalnum()) and (end + 1 == len(text) or not text[end + 1].isalnum())


def _near(these: list[int], those: list[int], window: int) -> bool:
    """Some position of `these` lies within `window` characters of some position of `those` (both sorted)."""
    for position in these:
        index = bisect.bisect_left(those, position - window)
        if index < len(those) and those[index] <= position + window:
            return True
    return False


class _Searcher:
    def __init__(self, needles: dict[str, set[str]], report: ScanReport) -> None:
        self.report = report
        self.automaton = ahocorasick.Automaton()
        self.pairs: list[str] = []  # "first last" of each name pair, by index
        for kind, values in needles.items():
            for value in sorted(values):
                if kind == NAME_PAIR:
                    first, _, last = (part.strip() for part in value.partition("\t"))
                    if min(len(first), len(last)) < MIN_NAME:
                        report.too_short[kind] = report.too_short.get(kind, 0) + 1
                        continue
                    self.pairs.append(f"{first} {last}")
                    for role, word in enumerate((first, last)):
                        self._add(word.lower(), role=(len(self.pairs) - 1, role))
                elif len(value.strip()) >= MIN_NEEDLE:
                    self._add(value.strip().lower(), kind=kind)
                else:
                    report.too_short[kind] = report.too_short.get(kind, 0) + 1
                    continue
                report.values[kind] = report.values.get(kind, 0) + 1
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()

    def _add(self, key: str, kind: str | None = None, role: tuple[int, int] | None = None) -> None:
        _, kinds, roles = self.automaton.get(key, (key, set(), set()))
        if kind is not None:
            kinds.add(kind)
        if role is not None:
            roles.add(role)
        self.automaton.add_word(key, (key, kinds, roles))

    def text(self, place: str, text: str, depth: int = 0, seen: tuple[set[str], set[int]] | None = None) -> None:
        """Search `text` and what it embeds: JSON-escaped text unescaped, base64 runs decoded. `seen` is shared by a
        text and its decoded forms: the needles already reported for it (reported once, at the first form found)
        and the base64 runs already decoded (a run is the same in the escaped and the unescaped form)."""
        known, decoded_runs = seen if seen is not None else (set(), set())
        self.report.characters += len(text)
        found: dict[str, set[str]] = {}
        names: dict[tuple[int, int], list[int]] = {}  # (pair, first or last) -> where the word ends
        lowered = text.lower()
        if not self.empty:
            for end, (value, kinds, roles) in self.automaton.iter(lowered):
                if kinds:
                    found[value] = kinds
                if roles and _whole_word(lowered, end - len(value) + 1, end):
                    for role in roles:
                        names.setdefault(role, []).append(end)
        for (pair, role), ends in names.items():
            if role == 0 and _near(ends, names.get((pair, 1), []), NAME_WINDOW):
                found[self.pairs[pair]] = {NAME_PAIR}
        for value in sorted(found.keys() - known):
            for kind in sorted(found[value]):
                self.report.hits.append(Hit(place, kind, fingerprint(value)))
        known |= found.keys()
        if depth >= 2:
            return
        for run in BASE64_RUN.finditer(text):
            if hash(run[0]) in decoded_runs:
                continue
            decoded_runs.add(hash(run[0]))
            try:
                decoded = base64.b64decode(run[0], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue  # hex, an id, binary data: not an embedded text
            self.report.decoded["base64"] += 1
            if place + " (base64)" not in self.report.embedded:
                self.report.embedded.append(place + " (base64)")
            self.text(place + " (base64)", decoded, depth + 1, (known, decoded_runs))
        if "\\" in text:
            unescaped = JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)
            if unescaped != text:
                self.report.decoded["json escapes"] += 1
                self.text(place + " (json-unescaped)", unescaped, depth + 1, (known, decoded_runs))

    def value(self, place: str, value: Any) -> str:
        """A database cell as text: bytes inflated when compressed, else decoded."""
        if isinstance(value, bytes):
            if value.startswith(ZLIB_HEADERS):
                try:
                    value = zlib.decompress(value)
                    self.report.decoded["zlib"] += 1
                except zlib.error:
                    pass
            return value.decode("utf-8", "replace")
        return "" if value is None else str(value)


def _relation_text(connection: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]) -> str:
    """A table or view as one text: a header line of its column names, then a line per row, each column cast to
    text (nested types as JSON: a list's cast would quote and escape its strings)."""
    parts = []
    for name, data_type in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        nested = data_type.endswith("]") or data_type.startswith(("STRUCT", "MAP", "UNION"))
        parts.append(f"coalesce(cast(to_json({quoted}) as varchar), '')" if nested else
                     f"coalesce(cast({quoted} as varchar), '')")  # fmt: skip
    header = "\t".join(name for name, _ in columns)
    body = connection.execute(
        f"select string_agg(concat_ws(chr(9), {', '.join(parts)}), chr(10)) from {relation}"
    ).fetchone()
    return header + "\n" + ((body[0] if body else None) or "")


def _scan_duckdb(searcher: _Searcher, place: str, path: Path) -> None:
    with duckdb.connect(str(path), read_only=True) as connection:
        relations = connection.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "union all select schema_name, view_name from duckdb_views() "
            "where not internal and database_name = current_database() order by 1, 2"
        ).fetchall()
        for schema, name in relations:
            columns = connection.execute(
                "select column_name, data_type from duckdb_columns() where database_name = current_database() "
                "and schema_name = ? and table_name = ? order by column_index",
                [schema, name],
            ).fetchall()
            relation = f'"{schema}"."{name}"'
            try:
                text = _relation_text(connection, relation, columns)
            except duckdb.Error as exc:
                raise UnreadableStore(f"{place}: {schema}.{name} could not be read: {exc}") from None
            searcher.report.places["duckdb relations"] += 1
            searcher.report.place_names.append(f"{place}: {schema}.{name}")
            searcher.text(f"{place}: {schema}.{name}", text)


def _scan_parquet(searcher: _Searcher, place: str, path: Path) -> None:
    with duckdb.connect() as connection:
        columns = connection.execute("select name, type from parquet_schema(?) where num_children is null "
                                     "and name != 'schema'", [str(path)]).fetchall()  # fmt: skip
        relation = "read_parquet('" + str(path).replace("'", "''") + "')"
        searcher.report.places["parquet files"] += 1
        searcher.report.place_names.append(place)
        searcher.text(place, _relation_text(connection, relation, [(n, t or "") for n, t in columns]))


def _scan_sqlite(searcher: _Searcher, place: str, path: Path) -> None:
    # Read-only and without taking over a writer's lock for long: Dagster or Meltano may be writing.
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        tables = [name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'select * from "{table}"')
            header = "\t".join(column[0] for column in cursor.description)
            lines = [header]
            lines += ["\t".join(searcher.value(place, cell) for cell in row) for row in cursor]
            searcher.report.places["sqlite tables"] += 1
            searcher.report.place_names.append(f"{place}: {table}")
            searcher.text(f"{place}: {table}", "\n".join(lines))
    finally:
        connection.close()


def _scan_file(searcher: _Searcher, place: str, path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(b"SQLite format 3\x00"):
        _scan_sqlite(searcher, place, path)
    elif head[8:12] == b"DUCK":
        _scan_duckdb(searcher, place, path)
    elif head.startswith(b"PAR1"):
        _scan_parquet(searcher, place, path)
    else:
        data = path.read_bytes()
        if data.startswith(b"\x1f\x8b"):
            data = gzip.decompress(data)
            searcher.report.decoded["gzip"] += 1
        if (
            path.suffix in PLAIN_STRING_BINARIES
            or path.name in PLAIN_STRING_FILES
            or path.name.endswith(DATABASE_SIDE_FILES)
        ):
            text = data.decode("utf-8", "replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise UnreadableStore(f"{place}: a binary file of a kind the leak scanner cannot read") from None
            if "\x00" in text:
                raise UnreadableStore(f"{place}: a binary file of a kind the leak scanner cannot read")
        searcher.text(place, text)
    searcher.report.places["files"] += 1
    searcher.report.place_names.append(place)


def _files(root: Path, excluded: dict[Path, str], report: ScanReport) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory)
        subdirectories[:] = sorted(name for name in subdirectories if here / name not in excluded)
        for name in sorted(files):
            path = here / name
            if path in excluded:
                continue
            if any(path.match(pattern) for pattern in SECRET_STORE_PATTERNS):
                report.secret_stores.append(path)
                continue
            if path.is_symlink():
                continue  # serving/current and the like: its target is under a root, read there
            else:
                yield path


def _place(path: Path, settings: Settings) -> str:
    for base, label in ((settings.data_dir, "data"), (PROJECT_ROOT, "project")):
        if path.is_relative_to(base):
            return f"{label}/{path.relative_to(base)}"
    return str(path)


def scan(settings: Settings, needles: dict[str, set[str]]) -> ScanReport:
    """Search every place of `settings`' data folder (and Meltano's) for every needle; raise UnreadableStore on a
    file or table the scanner cannot read."""
    started = time.monotonic()
    report = ScanReport(values={}, too_short={})
    searcher = _Searcher(needles, report)
    excluded = {path.resolve(): why for path, why in exclusions(settings).items()}
    report.excluded = {_place(path, settings): why for path, why in excluded.items()}
    for root in roots(settings):
        if not root.exists():
            continue
        for path in _files(root.resolve(), excluded, report):
            try:
                _scan_file(searcher, _place(path, settings), path)
            except FileNotFoundError:
                report.vanished.append(_place(path, settings))
    report.seconds = time.monotonic() - started
    return report


def personal_needles(conninfo: str) -> Needles:
    """The app database's personal values, by kind: each email as stored and lowercased and trimmed, its legacy
    md5 (the old staging `email_hash`), "first last" full names and the first and last name as a pair (NAME_PAIR:
    both near each other; a name alone is not searched), phones as stored and as digits only
    (9 digits or more), address lines."""
    import psycopg

    kinds = ("email", "email md5", "full name", NAME_PAIR, "phone", "phone digits", "address line")
    needles = Needles({kind: set() for kind in kinds})
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            "select email, first_name, last_name, phone, address_line from public.customers"
        ).fetchall()
    for email, first_name, last_name, phone, address_line in rows:
        if email and email.strip():
            needles["email"] |= {email, email.strip().lower()}
            needles["email md5"].add(hashlib.md5(email.strip().lower().encode()).hexdigest())
        if first_name and last_name:
            needles["full name"].add(f"{first_name.strip()} {last_name.strip()}")
            needles[NAME_PAIR].add(f"{first_name.strip()}\t{last_name.strip()}")
        if phone and phone.strip():
            needles["phone"].add(phone)
            digits = re.sub(r"\D", "", phone)
            if len(digits) >= 9:
                needles["phone digits"].add(digits)
        if address_line and address_line.strip():
            needles["address line"].add(address_line)
    return needles


def secret_needles(settings: Settings) -> Needles:
    """The secrets a data folder's artifacts must never hold: PostgreSQL's owner and read-only passwords (from
    connection.json), the CRM loader's password (crm.json) and the pseudonym key (as its file holds it, and as hex and
    base64 of its bytes), when they exist."""
    from tidewater.generate.postgres import PostgresServer
    from tidewater.serve.reverse_etl import crm_database

    connection = PostgresServer(settings.postgres_dir).connection()
    needles = Needles(
        {
            "postgres owner password": {connection.password},
            "postgres reader password": {connection.reader_password},
        }
    )
    crm_credentials = crm_database.credentials_file(settings.postgres_dir)
    if crm_credentials.exists():
        needles["CRM loader password"] = {json.loads(crm_credentials.read_text())["password"]}
    key_file = settings.pseudonym_key_path
    if key_file.exists():
        key = key_file.read_bytes()
        forms = {key.hex(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()}
        with contextlib.suppress(UnicodeDecodeError):  # a binary key has no text form
            forms.add(key.decode("utf-8").strip())
        needles["pseudonym key"] = {form for form in forms if form}
    return needles


def write_summary(report: ScanReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.summary(), indent=2, sort_keys=True) + "\n")
