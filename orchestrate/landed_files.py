"""The event landing zone as it is now, read on its own (not through the tap) for the reconciliation snapshot: each
file's size, sha256 and the md5 of each non-blank line, which raw must hold (audit.landed_files)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


def landed_line_counts(events_dir: Path) -> list[tuple[str, int]]:
    """(file relative to the events folder, non-blank lines) for every file in the landing zone."""
    return [(landed.source_file, landed.line_count) for landed in landed_files_now(events_dir)]


# Extensions of compressed files, read decompressed (the tap reads the same; any case).
LANDING_DECOMPRESSORS: dict[str, Callable[[Path], IO[bytes]]] = {
    ".gz": gzip.GzipFile,
    ".bz2": bz2.BZ2File,
    ".xz": lzma.LZMAFile,
}


@dataclass(frozen=True)
class LandedFile:
    """A file in the event landing zone as it is now, read on its own (not through the tap): what raw must hold."""

    source_file: str  # relative to the events folder
    size_bytes: int
    sha256: str | None  # of the file as stored; null when it cannot be read
    line_count: int  # non-blank lines of its content (decompressed)
    lines_md5: str | None  # md5 of `<line number>:<md5 of the line>` per non-blank line, comma-separated; null if none


def _open_stored(path: Path) -> IO[bytes]:
    return path.open("rb")


def _landed_file(events_dir: Path, path: Path) -> LandedFile:
    digests: list[str] = []
    sha256 = None
    opener = LANDING_DECOMPRESSORS.get(path.suffix.lower(), _open_stored)
    try:
        with path.open("rb") as stored:
            sha256 = hashlib.file_digest(stored, "sha256").hexdigest()
        with opener(path) as content:
            for number, line in enumerate(content, start=1):
                if line.rstrip(b"\r\n").strip():  # a blank line gives no row
                    digests.append(f"{number}:{hashlib.md5(line, usedforsecurity=False).hexdigest()}")
    except (EOFError, OSError, zlib.error, lzma.LZMAError):
        # Unreadable, cut short or not what its extension says: the tap lists it as rejected (and loads the lines
        # of a compressed file up to where it breaks, as counted here).
        pass
    return LandedFile(
        source_file=path.relative_to(events_dir).as_posix(),
        size_bytes=path.stat().st_size,
        sha256=sha256,
        line_count=len(digests),
        lines_md5=hashlib.md5(",".join(digests).encode(), usedforsecurity=False).hexdigest() if digests else None,
    )


def landed_files_now(events_dir: Path) -> list[LandedFile]:
    """Every file under the events folder, whatever its name or depth (links to files included, links to folders
    not followed): each must be loaded with this content, or be listed by the tap as rejected."""
    paths = [
        Path(folder) / name
        for folder, _, names in os.walk(events_dir, followlinks=False)
        for name in names
        if (Path(folder) / name).is_file()
    ]
    return [_landed_file(events_dir, path) for path in sorted(paths)]


def write_landed_files(con: Any, schema: str, files: list[LandedFile]) -> None:
    """<schema>.landed_files: one row per file in the landing zone."""
    con.execute(
        f"create or replace table {schema}.landed_files (source_file varchar, size_bytes bigint, sha256 varchar, "
        "line_count bigint, lines_md5 varchar)"
    )
    if files:
        con.executemany(
            f"insert into {schema}.landed_files values (?, ?, ?, ?, ?)",
            [(f.source_file, f.size_bytes, f.sha256, f.line_count, f.lines_md5) for f in files],
        )
