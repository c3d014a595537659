"""The one way Tidewater calls Meltano: `meltano run <extractor> <loader>` (the same bookmarks as a `meltano run el`
typed by hand), with Meltano's lines in a log file and a person told what is happening."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tidewater.generate.postgres import Connection
from tidewater.orchestrate.commands import run_logged
from tidewater.orchestrate.settings import Settings, venv_tool
from tidewater.orchestrate.sources import Source
from tidewater.privacy import pseudonyms


def write_env_file(settings: Settings, connection: Connection) -> dict[str, str]:
    """Write the variables Meltano needs (paths and PostgreSQL) to the data folder's env file, and for the
    project's own data folder also to .env, so that `meltano run el` typed by hand finds the same setup.

    The PostgreSQL login in it is the read-only role's (`Connection.env`): the owner's password stays in the
    server's connection.json. The pseudonym key is there for tap-postgres' stream maps. Both files are git-ignored
    and mode 600."""
    env = {**settings.env(), **connection.env(), **pseudonyms.env(settings)}
    text = "".join(f"{key}={value}\n" for key, value in sorted(env.items()))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for target in [settings.env_file] + ([settings.project_root / ".env"] if settings.is_default else []):
        # Created 600, not chmod-ed after writing: the password is never readable by others, not even briefly.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as file:
            file.write(text)
    return env


# The plugin folders `make install` fills in the project's .meltano/.
PLUGIN_TYPES = ("extractors", "loaders", "utilities", "mappers", "transformers", "orchestrators", "files")


def system_dir(settings: Settings) -> Path:
    """The data folder's Meltano system folder (settings.meltano_system_dir), with the project's installed plugins
    linked into it. Meltano writes each plugin's config and catalog to <system folder>/run/<plugin>/: with one system
    folder for every data folder, two runs at once (the bench, a test beside another) read each other's half-written
    catalog."""
    root = settings.meltano_system_dir
    root.mkdir(parents=True, exist_ok=True)
    for plugin_type in PLUGIN_TYPES:
        installed = settings.project_root / ".meltano" / plugin_type
        link = root / plugin_type
        if not installed.is_dir() or (link.is_symlink() and link.resolve() == installed.resolve()):
            continue
        if link.is_symlink():  # a data folder copied from another checkout
            link.unlink()
        with contextlib.suppress(FileExistsError):  # the sources' loads start side by side
            link.symlink_to(installed, target_is_directory=True)
    return root


def command(settings: Settings, *args: str) -> list[str]:
    """`meltano ARGS` for this data folder: its env file, its system folder (settings.env() names it)."""
    system_dir(settings)
    return [venv_tool("meltano"), "--env-file", str(settings.env_file), "--log-level", "info", *args]


def extract_load(settings: Settings, source: Source, env: dict[str, str]) -> Path:
    """One source's pipeline. --refresh-catalog: discover the source again, so a column added upstream reaches raw.
    --force: a run killed earlier leaves its job marked running; the run lock already keeps runs apart."""
    log_file = settings.logs_dir / f"el-{source.extractor}.log"
    run_logged(
        command(settings, "run", "--refresh-catalog", "--force", source.extractor, source.loader),
        env={**os.environ, **env},
        log_file=log_file,
        label=f"meltano run {source.extractor} {source.loader}",
    )
    return log_file
