"""Install the dbt packages of packages.yml: from the dbt hub when it answers, else from a local mirror.

Many companies run dbt where the hub is unreachable. There, `tidewater deps` installs each package at the version
packages.yml pins from a mirror the user names outside the repository:

- the environment variable TIDEWATER_DBT_PACKAGE_MIRROR, or
- `dbt_package_mirror = "/path/to/mirror"` in $XDG_CONFIG_HOME/tidewater/config.toml (~/.config/tidewater/config.toml).

The mirror holds, for each package, either a git repository of its source (bare or not, e.g. made with
`git clone --mirror`), named `<owner>+<repo>` or `<owner>/<repo>` after the package's repository or its hub name,
with the release tag; or a folder `<owner>+<package>/<version>/` holding the package's files.
Nothing is edited in the repository: packages land in dbt_packages/ (git-ignored), exactly as `dbt deps` puts them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings, config_file

MIRROR_ENV = "TIDEWATER_DBT_PACKAGE_MIRROR"  # Settings.dbt_package_mirror, from the environment

# Hub packages whose source repository is named differently from the package.
SOURCE_REPOSITORIES = {
    "elementary-data/elementary": "elementary-data/dbt-data-reliability",
    "dbt-labs/dbt_utils": "dbt-labs/dbt-utils",
}


@dataclass(frozen=True)
class PackageSpec:
    package: str  # hub name, owner/name
    version: str


def read_specs(packages_file: Path) -> list[PackageSpec]:
    """Hub packages pinned to one version (a mirror can only serve exact versions)."""
    entries = (yaml.safe_load(packages_file.read_text()) or {}).get("packages", [])
    specs = []
    for entry in entries:
        if "package" not in entry:
            continue
        version = entry.get("version")
        if not isinstance(version, str):
            raise TidewaterError(
                f"{packages_file}: pin {entry['package']} to one version (got {version!r}) so a mirror can serve it"
            )
        specs.append(PackageSpec(entry["package"], version))
    return specs


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _candidates(root: Path, spec: PackageSpec) -> list[Path]:
    names = [spec.package]
    if spec.package in SOURCE_REPOSITORIES:
        names.insert(0, SOURCE_REPOSITORIES[spec.package])
    paths = []
    for name in names:
        owner, repo = name.split("/", 1)
        for base in (root / f"{owner}+{repo}", root / owner / repo, root / repo):
            paths += [base, base / "repo", base / ".git", base / "repo" / ".git", base / spec.version]
    return paths


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=False)


def _tag_in(git_dir: Path, version: str) -> str | None:
    for ref in (version, f"v{version}"):
        if _git(git_dir, "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}^{{commit}}").returncode == 0:
            return ref
    return None


def _project_name(dbt_project_text: str) -> str:
    return str(yaml.safe_load(dbt_project_text)["name"])


def _install_from_git(git_dir: Path, ref: str, packages_dir: Path) -> str:
    archive = _git(git_dir, "archive", "--format=tar", ref)
    if archive.returncode != 0:
        raise TidewaterError(f"cannot read {ref} from {git_dir}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        project = tar.extractfile("dbt_project.yml")
        if project is None:
            raise TidewaterError(f"{git_dir} at {ref} is not a dbt package (no dbt_project.yml)")
        name = _project_name(project.read().decode())
        target = packages_dir / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        tar.extractall(target, filter="data")
    return name


def _install_from_folder(folder: Path, packages_dir: Path) -> str:
    name = _project_name((folder / "dbt_project.yml").read_text())
    target = packages_dir / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".git"))
    return name


def install_from_mirror(root: Path, specs: list[PackageSpec], packages_dir: Path) -> list[str]:
    """Install every spec from the mirror, or fail naming the package that is not there."""
    if not root.is_dir():
        raise TidewaterError(f"the dbt package mirror {root} does not exist (set by {MIRROR_ENV} or {config_file()})")
    installed = []
    for spec in specs:
        for path in _candidates(root, spec):
            if _is_git_dir(path) and (ref := _tag_in(path, spec.version)):
                installed.append(f"{spec.package} {spec.version} <- {path} (tag {ref})")
                _install_from_git(path, ref, packages_dir)
                break
            if path.name == spec.version and (path / "dbt_project.yml").is_file():
                installed.append(f"{spec.package} {spec.version} <- {path}")
                _install_from_folder(path, packages_dir)
                break
        else:
            raise TidewaterError(
                f"{spec.package} {spec.version} is not in the dbt package mirror {root}: add a git copy of "
                f"{SOURCE_REPOSITORIES.get(spec.package, spec.package)} with tag {spec.version}"
            )
    return installed


STAMP = ".tidewater-deps.json"


def _stamp(packages_dir: Path) -> Path:
    return packages_dir / STAMP


def _is_current(packages_dir: Path, specs: list[PackageSpec]) -> bool:
    wanted = json.dumps([[s.package, s.version] for s in specs])
    return _stamp(packages_dir).exists() and _stamp(packages_dir).read_text() == wanted


def _mark_current(packages_dir: Path, specs: list[PackageSpec]) -> None:
    packages_dir.mkdir(parents=True, exist_ok=True)
    _stamp(packages_dir).write_text(json.dumps([[s.package, s.version] for s in specs]))


def deps(
    settings: Settings, project_dir: Path, dbt: str, env: dict[str, str] | None = None, *, try_hub: bool = True
) -> list[str]:
    """`dbt deps` from the hub; if the hub can't be reached, the same pins from the user's mirror.
    Packages already installed at the pinned versions are left as they are."""
    packages_file = project_dir / "packages.yml"
    if not packages_file.exists():
        return []
    specs = read_specs(packages_file)
    packages_dir = project_dir / os.environ.get("DBT_PACKAGES_FOLDER", "dbt_packages")
    if _is_current(packages_dir, specs):
        return [f"{spec.package} {spec.version} (already installed)" for spec in specs]
    installed = _deps(settings, project_dir, specs, packages_dir, dbt, env, try_hub=try_hub)
    _mark_current(packages_dir, specs)
    return installed


def edr_deps(settings: Settings, edr_project_dir: Path) -> list[str]:
    """Elementary's CLI runs an internal dbt project of its own and runs `dbt deps` for it when its packages are
    missing. Where a mirror is configured, install that project's locked packages from it first, so `edr` never
    reaches for the hub. Without a mirror, leave it to `edr` (it needs the hub then)."""
    root = settings.dbt_package_mirror
    lock = edr_project_dir / "package-lock.yml"
    if root is None or not lock.exists():
        return []
    specs = read_specs(lock)
    packages_dir = edr_project_dir / "dbt_packages"
    if _is_current(packages_dir, specs):
        return []
    installed = install_from_mirror(root, specs, packages_dir)
    _mark_current(packages_dir, specs)
    return installed


def _deps(
    settings: Settings,
    project_dir: Path,
    specs: list[PackageSpec],
    packages_dir: Path,
    dbt: str,
    env: dict[str, str] | None,
    *,
    try_hub: bool,
) -> list[str]:
    if try_hub:
        # dbt downloads into a folder it makes in the temporary folder, and leaves it there when the hub can't be
        # reached: it gets a temporary folder of its own, removed after.
        with tempfile.TemporaryDirectory(prefix="tidewater-dbt-deps-") as scratch:
            hub = subprocess.run(
                [dbt, "deps"],
                cwd=project_dir,
                env={**os.environ, **(env or {}), "TMPDIR": scratch},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        if hub.returncode == 0:
            return [f"{spec.package} {spec.version} <- dbt hub" for spec in specs]
    root = settings.dbt_package_mirror
    if root is None:
        raise TidewaterError(
            "the dbt hub can't be reached and no package mirror is configured: set "
            f'{MIRROR_ENV}=/path/to/mirror or `dbt_package_mirror = "/path/to/mirror"` in {config_file()}'
        )
    return install_from_mirror(root, specs, packages_dir)
