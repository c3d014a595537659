"""Offline dbt packages: installed at their pins from a local git mirror when the hub can't be reached, and one
clear message when there is neither."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tidewater.orchestrate import dbt_packages
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _mirror_with_package(root: Path) -> Path:
    """A bare git mirror `acme+dbt-widgets` holding the tags 1.0.0 and 1.1.0 of a dbt package named widgets."""
    work = root / "work"
    work.mkdir(parents=True)
    _git(work, "init", "-q")
    for version in ("1.0.0", "1.1.0"):
        (work / "dbt_project.yml").write_text(f"name: widgets\nversion: '{version}'\nconfig-version: 2\n")
        (work / "macros").mkdir(exist_ok=True)
        (work / "macros" / "widget.sql").write_text(f"{{% macro widget() %}}'{version}'{{% endmacro %}}\n")
        _git(work, "add", "-A")
        _git(work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", version)
        _git(work, "tag", version)
    mirror = root / "mirror"
    _git(root, "clone", "-q", "--mirror", str(work), str(mirror / "acme+dbt-widgets"))
    return mirror


def _project(tmp_path: Path, version: str = "1.0.0") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "packages.yml").write_text(f"packages:\n  - package: acme/dbt-widgets\n    version: {version}\n")
    return project


@pytest.fixture
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(dbt_packages.MIRROR_ENV, raising=False)


def test_installs_the_pinned_tag_from_a_git_mirror(tmp_path: Path, no_user_config: None, monkeypatch) -> None:
    monkeypatch.setenv(dbt_packages.MIRROR_ENV, str(_mirror_with_package(tmp_path)))
    project = _project(tmp_path, "1.0.0")
    lines = dbt_packages.deps(Settings.load(), project, dbt="false", try_hub=False)
    assert lines and "acme/dbt-widgets 1.0.0" in lines[0]
    assert "'1.0.0'" in (project / "dbt_packages" / "widgets" / "macros" / "widget.sql").read_text()
    assert not (project / "dbt_packages" / "widgets" / ".git").exists()


def test_the_config_file_names_the_mirror_too(tmp_path: Path, no_user_config: None) -> None:
    mirror = _mirror_with_package(tmp_path)
    config = tmp_path / "config" / "tidewater" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'dbt_package_mirror = "{mirror}"\n')
    project = _project(tmp_path, "1.1.0")
    dbt_packages.deps(Settings.load(), project, dbt="false", try_hub=False)
    assert "'1.1.0'" in (project / "dbt_packages" / "widgets" / "macros" / "widget.sql").read_text()


def test_a_version_missing_from_the_mirror_is_named(tmp_path: Path, no_user_config: None, monkeypatch) -> None:
    monkeypatch.setenv(dbt_packages.MIRROR_ENV, str(_mirror_with_package(tmp_path)))
    with pytest.raises(TidewaterError, match=r"acme/dbt-widgets 2\.0\.0 is not in the dbt package mirror"):
        dbt_packages.deps(Settings.load(), _project(tmp_path, "2.0.0"), dbt="false", try_hub=False)


def test_no_hub_and_no_mirror_says_what_to_configure(tmp_path: Path, no_user_config: None) -> None:
    # `false` stands for a `dbt deps` that cannot reach the hub: it exits non-zero, as dbt does offline.
    with pytest.raises(TidewaterError) as error:
        dbt_packages.deps(Settings.load(), _project(tmp_path), dbt="false")
    message = str(error.value)
    assert "dbt hub can't be reached" in message
    assert dbt_packages.MIRROR_ENV in message and "config.toml" in message


def test_the_real_dbt_deps_offline_falls_back_to_the_mirror(tmp_path: Path, no_user_config: None, monkeypatch) -> None:
    """With the real dbt: the hub is unreachable here, so the mirror serves the package. dbt's download folder for the
    hub does not stay behind in the temporary folder."""
    from tidewater.orchestrate.settings import venv_tool

    monkeypatch.setenv(dbt_packages.MIRROR_ENV, str(_mirror_with_package(tmp_path)))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    project = _project(tmp_path)
    (project / "dbt_project.yml").write_text("name: probe\nversion: '1.0.0'\nconfig-version: 2\nprofile: probe\n")
    lines = dbt_packages.deps(Settings.load(), project, dbt=venv_tool("dbt"))
    assert (project / "dbt_packages" / "widgets").is_dir()
    assert "mirror" in lines[0] or "dbt hub" in lines[0]
    assert not list(temporary.iterdir())
