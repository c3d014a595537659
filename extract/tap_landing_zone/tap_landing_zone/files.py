"""What is in the landing zone: every entry under it, each either a landing file to read or rejected with a reason.

The tap walks the whole folder instead of globbing one shape, so a file delivered under another name (`.jsonl.gz`,
`.JSONL`, a nested folder, a file at the root, a `.csv`) is not skipped silently: it is read, or it is listed as
rejected (tap's `landing_files` stream, `rejected_reason`) and a dbt test names it.

Accepted: `<day folder>/<name>.<jsonl|ndjson|json>`, extensions in any case, optionally compressed (`.gz`, `.bz2`,
`.xz`). A `.json` file is read as JSON lines: exporters often name JSON lines so, and a file that holds one JSON
document over several lines still loses nothing (each line lands with its parse error). A link to a file is read
as the file it points to; a link to a folder is not followed (a loop, or the same day read twice).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

JSON_LINES_EXTENSIONS = (".jsonl", ".ndjson", ".json")
# The readers of compressed files, by extension (each opens a path for reading by default).
COMPRESSIONS: dict[str, Callable[[Path], IO[bytes]]] = {
    ".gz": gzip.GzipFile,
    ".bz2": bz2.BZ2File,
    ".xz": lzma.LZMAFile,
}
COMPRESSION_NAMES = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
# What a reader of a compressed file raises when its data is cut short or is not what its extension says.
DECOMPRESSION_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)
# Names that writers and copy tools give a file while it is being written, before renaming it.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".filepart", ".download", ".swp", "~")


@dataclass(frozen=True)
class LandingEntry:
    """One file (or folder named like one) under the landing folder."""

    source_file: str  # relative to the landing folder, with forward slashes
    path: Path
    rejected_reason: str | None  # None: a landing file, read by the tap

    @property
    def is_accepted(self) -> bool:
        return self.rejected_reason is None


def _suffixes(name: str) -> tuple[str, str | None]:
    """(the format's extension, the compression's extension or None), lower-cased: `a.JSONL.GZ` -> (.jsonl, .gz)."""
    stem, dot, last = name.rpartition(".")
    if not dot or not stem:
        return "", None
    last = "." + last.lower()
    if last in COMPRESSIONS:
        inner_stem, inner_dot, inner = stem.rpartition(".")
        return ("." + inner.lower() if inner_dot and inner_stem else ""), last
    return last, None


def rejected_reason(relative: PurePosixPath, path: Path) -> str | None:
    """Why the tap does not read this file, or None when it does."""
    name = relative.name
    if path.is_symlink() and not path.exists():
        return "a link to nothing"
    if path.is_dir():
        return "a link to a folder (not followed)" if path.is_symlink() else "a folder named like a landing file"
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    if any(part.startswith(".") for part in relative.parts):
        return "hidden file (a file still being written?)"
    if name.lower().endswith(TEMPORARY_SUFFIXES) or name.startswith("~$"):
        return "temporary file (a file still being written?)"
    if len(relative.parts) == 1:
        return "not in a day folder"
    if len(relative.parts) > 2:
        return "in a nested folder (files go directly in a day folder)"
    extension, compression = _suffixes(name)
    if extension not in JSON_LINES_EXTENSIONS:
        shown = (extension or "(none)") + (compression or "")
        return f"unsupported extension {shown} (JSON lines: .jsonl, .ndjson or .json, optionally .gz, .bz2 or .xz)"
    return None


def scan(landing_dir: Path) -> list[LandingEntry]:
    """Every file under the landing folder, and every folder or link that looks like a file, sorted by name."""
    entries: list[LandingEntry] = []
    for folder, dirnames, filenames in os.walk(landing_dir, followlinks=False):
        here = Path(folder)
        for dirname in dirnames:
            path = here / dirname
            # A folder is listed only when it would be mistaken for a file, or is a link (not walked into).
            if path.is_symlink() or _suffixes(dirname)[0] in JSON_LINES_EXTENSIONS:
                relative = PurePosixPath(path.relative_to(landing_dir).as_posix())
                entries.append(LandingEntry(relative.as_posix(), path, rejected_reason(relative, path)))
        for filename in filenames:
            path = here / filename
            relative = PurePosixPath(path.relative_to(landing_dir).as_posix())
            entries.append(LandingEntry(relative.as_posix(), path, rejected_reason(relative, path)))
    return sorted(entries, key=lambda entry: entry.source_file)


def compression_of(path: Path) -> str | None:
    """gzip, bz2 or xz, as the file's extension says; None for a file stored as is."""
    _, compression = _suffixes(path.name)
    return None if compression is None else COMPRESSION_NAMES[compression]


def open_content(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its extension says it is compressed."""
    _, compression = _suffixes(path.name)
    if compression is None:
        return path.open("rb")
    return COMPRESSIONS[compression](path)
