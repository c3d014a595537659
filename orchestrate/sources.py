"""Which sources exist, as Meltano declares them: the `el` job's tasks (extractor and loader) and each extractor's
`load_schema` and `label` (meltano.yml and meltano/*.meltano.yml). Nothing else in the Python lists the sources."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT

EL_JOB = "el"  # the Meltano job that extracts and loads every source (meltano/jobs.meltano.yml)
RAW_PREFIX = "raw_"


@dataclass(frozen=True)
class Source:
    name: str  # what the warehouse calls it: raw_<name> (its load_schema without the prefix)
    label: str  # for people: "app database (PostgreSQL)"
    extractor: str
    loader: str
    load_schema: str
    selected_streams: tuple[str, ...]  # the extractor's `select` patterns, without the `.*` property part

    @property
    def state_id(self) -> str:
        """The bookmark `meltano run` keeps for this pipeline in the dev environment."""
        return f"dev:{self.extractor}-to-{self.loader}"


def _project_files(root: Path) -> list[dict[str, Any]]:
    main = yaml.safe_load((root / "meltano.yml").read_text()) or {}
    documents = [main]
    for pattern in main.get("include_paths", []):
        for path in sorted(root.glob(pattern.removeprefix("./"))):
            documents.append(yaml.safe_load(path.read_text()) or {})
    return documents


@cache
def meltano_sources(root: Path = PROJECT_ROOT) -> tuple[Source, ...]:
    """The sources in the order the `el` job lists them."""
    documents = _project_files(root)
    extractors = {
        plugin["name"]: plugin
        for document in documents
        for plugin in (document.get("plugins") or {}).get("extractors", [])
    }
    jobs = {job["name"]: job for document in documents for job in document.get("jobs", [])}
    if EL_JOB not in jobs:
        raise TidewaterError(f"meltano: no job named {EL_JOB!r} (it lists every source's extractor and loader)")
    sources = []
    for task in jobs[EL_JOB]["tasks"]:
        extractor, loader = task.split()
        plugin = extractors.get(extractor)
        if plugin is None:
            raise TidewaterError(f"meltano: the {EL_JOB!r} job names {extractor}, which no extractor defines")
        schema = plugin.get("load_schema", "")
        if not schema.startswith(RAW_PREFIX):
            raise TidewaterError(f"meltano: {extractor} needs `load_schema: {RAW_PREFIX}<source>` (got {schema!r})")
        streams = tuple(pattern.rsplit(".", 1)[0] for pattern in plugin.get("select", []))
        sources.append(
            Source(
                name=schema.removeprefix(RAW_PREFIX),
                label=plugin.get("label", extractor),
                extractor=extractor,
                loader=loader,
                load_schema=schema,
                selected_streams=streams,
            )
        )
    return tuple(sources)


def source(name: str) -> Source:
    for found in meltano_sources():
        if found.name == name:
            return found
    raise TidewaterError(f"no source named {name!r} in meltano (known: {[s.name for s in meltano_sources()]})")


def selected_tables(source: Source, schema: str) -> list[str]:
    """The tables of `schema` the extractor selects (tap-postgres names streams `<schema>-<table>`)."""
    prefix = f"{schema}-"
    return [stream.removeprefix(prefix) for stream in source.selected_streams if fnmatch.fnmatch(stream, f"{prefix}*")]
