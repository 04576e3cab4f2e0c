"""SBOM generation: a CycloneDX JSON SBOM of a Python project or environment, with cyclonedx-py.

Nothing of the project runs: the gate reads its manifests and lock files as text and hands
cyclonedx-py (and pip-audit) only requirement lines it has checked, in a private work folder,
never the project's own files and never its folder (so no build backend can be asked for
metadata). Which manifest describes a project, in order of preference:

| manifest | SBOM from | dependency audit (pip-audit) from |
|---|---|---|
| `poetry.lock` (with its `pyproject.toml`) | `cyclonedx-py poetry` on copies of the two files | its pinned packages, `--no-deps` |
| `Pipfile.lock` | `cyclonedx-py pipenv` on a copy | its pinned `default` packages, `--no-deps` |
| `uv.lock` | its pinned packages, `cyclonedx-py requirements` | its pinned packages, `--no-deps` |
| runtime `requirements*.txt`, `requirements/*.txt` | their checked lines, `cyclonedx-py requirements` | the same lines |
| `pyproject.toml` dependencies (PEP 621 or Poetry) | those lines, `cyclonedx-py requirements` | those lines |
| `setup.py` / `setup.cfg` only | refused: their dependencies cannot be read without running them | refused |

Discovery (`find_manifest`): a lock file wins, at the root or, failing that, in the shallowest
folder below it that has one (`app/poetry.lock`); else every runtime requirements file of the
project, at the root and below (`app/requirements.txt`); else the root's `pyproject.toml`.
Requirement files for development, tests or documentation (`requirements-dev.txt`,
`dev-requirements.txt`, `requirements/test.txt`, `docs/requirements.txt`, ...) are not the
shipped set: they are listed as such (`Manifest.development`, recorded in the run's notes), and
their packages are neither described nor audited. Folders whose name starts with a dot are not
searched.

Requirement lines are checked before any tool sees them (`check_requirements`): only plain
requirements (`name[extras] specifier ; marker`) pass. Index and find-links options
(`--index-url`, `--extra-index-url`, `-f`, `--trusted-host`, ...) are dropped (the gate resolves
nothing); an editable or path requirement (`-e .`, `./pkg`, `file:pkg`) naming a folder inside
the project is the project's own code, scanned as source, and is dropped with a note; a URL, VCS
or path requirement that leaves the project, and an `-r` include that leaves it, name code the
gate cannot describe without fetching or building it: dropped, and the run counts as incomplete
with the line named. A lock file lists every package, transitive ones included, pinned; a
requirements file or `pyproject.toml` lists what it names (cyclonedx-py adds no transitive
dependencies). The root component comes from `pyproject.toml` (`--pyproject`, a copy) where it
has a `[project]` table. An environment (`--environment PYTHON`, given by the CI configuration,
never found in the tree) is described with `cyclonedx-py environment`.

Component references are line-based and the SBOM is reproducible (`--output-reproducible`: no
timestamp, no random serial number). cyclonedx-py's own schema check is skipped
(`--no-validate`): the gate's reader validates the SBOM when it reads it, and the check is most
of cyclonedx-py's run time.

A project with none of these has no declared dependencies: SBOM generation and the dependency
audit are `not_applicable` (see `scanners.run.interface.RunRecord.scan_entry` for what that
means for the verdict).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

from packaging.utils import canonicalize_name

from gate.errors import InputError
from scanners.run.coverage import read_regular
from scanners.run.interface import Prepared, PrepareError, RunRecord, ScannerRunner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MANIFEST_KINDS: Final = ("poetry", "pipenv", "uv", "requirements", "pyproject", "setuptools")

NO_MANIFEST: Final = (
    "no dependency manifest in the project (requirements*.txt, pyproject.toml dependencies, poetry.lock, "
    "Pipfile.lock, uv.lock): it declares no dependencies to describe or audit"
)

_OPTION_WITH_VALUE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)\s*$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)")
_LINE_OPTIONS = re.compile(r"\s+--?[a-zA-Z][-\w]*(?:[=\s]\S+)?")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DEV_WORDS: Final = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "doc",
        "docs",
        "lint",
        "linting",
        "typing",
        "types",
        "mypy",
        "ci",
        "tox",
        "local",
        "style",
        "qa",
        "bench",
        "benchmark",
        "benchmarks",
        "coverage",
        "debug",
    }
)
_DEV_FOLDERS: Final = frozenset({"doc", "docs", "test", "tests", "testing", "ci", ".github"})
_LOCKS: Final = (("poetry", "poetry.lock"), ("pipenv", "Pipfile.lock"), ("uv", "uv.lock"))
MAX_DEPTH: Final = 4
"""How deep below the root manifests are looked for (`app/requirements.txt` is depth 2)."""
_COMMENT = re.compile(r"(^|\s)#.*$")
_PIN = re.compile(r"===?\s*[^\s,;*]+\s*$")


@dataclass(frozen=True)
class Manifest:
    """The file(s) that declare a project's dependencies. Paths are relative to the project."""

    kind: str
    files: tuple[str, ...]
    pyproject: str | None = None
    """`pyproject.toml` when it has a `[project]` table (the SBOM's root component)."""
    base: str = "."
    """The folder of a lock file (`app` for `app/poetry.lock`)."""
    development: tuple[str, ...] = ()
    """Requirement files for development, tests or documentation: not the shipped set."""

    def describe(self) -> str:
        """`requirements (requirements.txt, app/requirements.txt)`."""
        return f"{self.kind} ({', '.join(self.files)})"

    def development_note(self) -> list[str]:
        """The note that names the development requirement files left out, if any."""
        if not self.development:
            return []
        return [f"development, test and documentation requirements not described (they do not ship): {', '.join(self.development)}"]


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PrepareError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PrepareError(f"{path.name}: invalid TOML: {exc}") from None


def is_development(path: str) -> bool:
    """Whether a requirements file (path relative to the project) is for development, tests or docs.

    `requirements-dev.txt`, `dev-requirements.txt`, `requirements_test.txt`, `requirements/docs.txt`,
    `docs/requirements.txt`, `tests/requirements.txt`: a word of the name (besides `requirements`)
    or a folder on the way names development work.
    """
    parts = path.split("/")
    if any(folder.lower() in _DEV_FOLDERS for folder in parts[:-1]):
        return True
    stem = parts[-1].rsplit(".", 1)[0].lower()
    words = {w for w in re.split(r"[-_.\s]+", stem) if w and w not in ("requirements", "requirement", "reqs", "req")}
    return bool(words & _DEV_WORDS)


def _is_requirements_name(rel: str) -> bool:
    parts = rel.split("/")
    name = parts[-1].lower()
    if not name.endswith(".txt"):
        return False
    return "requirements" in name or (len(parts) >= 2 and parts[-2].lower() == "requirements")


def _folders(target: Path) -> list[str]:
    """The project's folders, root first, then by depth and name (no symbolic links, no dot-folders)."""
    found = [""]
    queue = [("", target, 0)]
    while queue:
        rel, folder, depth = queue.pop(0)
        if depth >= MAX_DEPTH - 1:
            continue
        try:
            entries = sorted((e for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            sub = f"{rel}{entry.name}/"
            found.append(sub)
            queue.append((sub, Path(entry.path), depth + 1))
    return found


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _requirement_files(target: Path) -> tuple[list[str], list[str]]:
    """(runtime, development) requirements files of the project, root and below, sorted."""
    found: list[str] = []
    for rel in _folders(target):
        folder = target / rel if rel else target
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False))
        except OSError:
            continue
        found += [rel + n for n in names if _is_requirements_name(rel + n)]
    runtime = sorted(f for f in found if not is_development(f))
    development = sorted(f for f in found if is_development(f))
    return runtime, development


def _lock_manifest(target: Path, rel: str) -> Manifest | None:
    folder = target / rel if rel else target
    base = rel.rstrip("/") or "."
    pyproject_path = folder / "pyproject.toml"
    pyproject = _load_toml(pyproject_path) if _regular(pyproject_path) else None
    root = f"{rel}pyproject.toml" if pyproject is not None and isinstance(pyproject.get("project"), dict) else None
    for kind, name in _LOCKS:
        if not _regular(folder / name):
            continue
        if kind == "poetry":
            if pyproject is None:
                continue
            return Manifest("poetry", (f"{rel}poetry.lock", f"{rel}pyproject.toml"), root, base)
        return Manifest(kind, (rel + name,), root, base)
    return None


def find_manifest(target: Path) -> Manifest | None:
    """The manifest that best describes the project's shipped dependencies, or None when it declares none."""
    pyproject_path = target / "pyproject.toml"
    pyproject = _load_toml(pyproject_path) if _regular(pyproject_path) else None
    root = "pyproject.toml" if pyproject is not None and isinstance(pyproject.get("project"), dict) else None
    runtime, development = _requirement_files(target)
    for rel in _folders(target):
        lock = _lock_manifest(target, rel)
        if lock is not None:
            return Manifest(lock.kind, lock.files, lock.pyproject, lock.base, tuple(development))
    if runtime:
        return Manifest("requirements", tuple(runtime), root, development=tuple(development))
    if pyproject is not None and _declares_dependencies(pyproject):
        return Manifest("pyproject", ("pyproject.toml",), root, development=tuple(development))
    setup = [n for n in ("setup.py", "setup.cfg") if (target / n).is_file()]
    if setup:
        return Manifest("setuptools", tuple(setup), root, development=tuple(development))
    return None


def _declares_dependencies(pyproject: dict[str, Any]) -> bool:
    project = pyproject.get("project")
    if isinstance(project, dict) and ("dependencies" in project or "dependencies" in (project.get("dynamic") or [])):
        return True
    poetry = pyproject.get("tool", {}).get("poetry") if isinstance(pyproject.get("tool"), dict) else None
    return isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict)


@dataclass
class Checked:
    """Requirement lines the gate lets a tool see, and what it left out: notes, and errors (code it
    cannot describe without fetching or building it, which makes the run incomplete)."""

    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def requirement_lines(target: Path, manifest: Manifest) -> list[str]:
    """The manifest's dependencies as checked requirement lines (pinned `name==version` for lock files)."""
    return checked_requirements(target, manifest).lines


def checked_requirements(target: Path, manifest: Manifest) -> Checked:
    """The manifest's dependencies as requirement lines a tool may see, with what was left out and why."""
    if manifest.kind == "poetry":
        lines = _lock_lines(_load_toml(target / manifest.files[0]), manifest.files[0], skip_local=False)
    elif manifest.kind == "uv":
        declared = _declared_lines(target / manifest.base / "pyproject.toml")
        lines = _lock_lines(_load_toml(target / manifest.files[0]), manifest.files[0], skip_local=True, declared=declared)
    elif manifest.kind == "pipenv":
        lines = _pipfile_lines(target / manifest.files[0])
    elif manifest.kind == "requirements":
        checked = Checked()
        seen: set[Path] = set()
        for name in manifest.files:
            _inline(target / name, target.resolve(), seen, checked, name)
        lines, checked.lines = checked.lines, []
        return check_requirements(lines, target, checked)
    elif manifest.kind == "pyproject":
        lines = _pyproject_lines(_load_toml(target / "pyproject.toml"))
    else:
        raise PrepareError(
            f"dependencies declared in {', '.join(manifest.files)} cannot be read without running the project's build code; "
            "add a requirements file or a lock file (pip-compile, poetry lock, uv lock) so they can be described and audited"
        )
    return check_requirements(lines, target, Checked())


_INDEX_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--use-feature",
    "--require-hashes",
)


def _local_inside(value: str, root: Path, base: Path) -> bool | None:
    """For a path or `file:` URL requirement: True inside the project, False outside, None when it is
    no local path (a remote URL, a VCS reference)."""
    text = value
    if text.lower().startswith("file:"):
        text = text[5:]
        if text.startswith("//"):
            text = text[2:]
            if not text.startswith("/"):  # file://host/path: another machine
                return False
    elif _URL.match(text) and not re.match(r"^[a-zA-Z]:[\\/]", text):
        return None
    text = text.split("#", 1)[0]
    path = Path(os.path.expanduser(text)) if text.startswith("~") else Path(text)
    if not path.is_absolute():
        path = base / path
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _describe_local(line: str, inside: bool | None) -> tuple[str, bool]:
    """(the text recorded about a dropped line, whether it makes the run incomplete)."""
    if inside:
        return (f"{line!r}: a folder of the project itself, scanned as its source; never installed or built", False)
    if inside is False:
        return (f"{line!r}: code outside the project that the gate cannot read; not described, never installed or built", True)
    return (f"{line!r}: a URL or VCS reference; it is not fetched, built or described (pin the package from an index instead)", True)


def check_requirements(lines: Sequence[str], target: Path, checked: Checked) -> Checked:
    """Keep only plain requirements (`name[extras] specifier ; marker`); drop and record the rest.

    Never passed to a tool: index and find-links options (dropped, noted), editable and path
    requirements and `file:` URLs (inside the project: its own code, noted; outside: an error),
    URL and VCS requirements (an error: code the gate cannot describe without fetching it).
    """
    from packaging.requirements import InvalidRequirement, Requirement

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        m = _EDITABLE.match(line)
        if m:
            text, serious = _describe_local(line, _local_inside(m.group(1), target, target))
            (checked.errors if serious else checked.notes).append(text)
            continue
        if line.startswith("-"):
            option = re.split(r"[=\s]", line, maxsplit=1)[0]
            if option in _INDEX_OPTIONS or option.startswith("--"):
                checked.notes.append(f"{line!r}: an installer option; ignored (the gate resolves and installs nothing)")
            else:
                checked.errors.append(f"{line!r}: an option the gate does not understand; not passed to any tool")
            continue
        spec = _LINE_OPTIONS.sub("", " " + line).strip()  # --hash=..., --config-settings ...
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            text, serious = _describe_local(line, _local_inside(spec, target, target))
            (checked.errors if serious else checked.notes).append(text)
            continue
        if req.url is not None:
            text, serious = _describe_local(line, _local_inside(req.url, target, target))
            (checked.errors if serious else checked.notes).append(text)
            continue
        checked.lines.append(spec)
    return checked


def _declared_lines(path: Path) -> list[str]:
    """What a uv project's pyproject.toml declares that ships: `[project]` dependencies and every
    optional dependency (the wheel's metadata, whatever the lock says; red team, round 2). None
    read when there is no such file or its dependencies are dynamic (the lock alone then)."""
    if not _regular(path):
        return []
    project = _load_toml(path).get("project")
    if not isinstance(project, dict):
        return []
    return _project_requirements(project, path.name, optional=True)


def _project_requirements(project: dict[str, Any], shown: str, *, optional: bool) -> list[str]:
    """`[project] dependencies` (and, with `optional`, every `optional-dependencies` group) of a
    pyproject.toml, each checked to be a list of strings: PrepareError naming `shown` otherwise."""
    groups = [project.get("dependencies", [])]
    if optional:
        table = project.get("optional-dependencies", {})
        groups += list(table.values()) if isinstance(table, dict) else [table]
    out: list[str] = []
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(d, str) for d in group):
            what = "dependencies and optional-dependencies" if optional else "dependencies"
            raise PrepareError(f"{shown}: [project] {what} must be lists of strings")
        out.extend(group)
    return out


def _declared_name(line: str) -> tuple[str, tuple[str, ...]] | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    return canonicalize_name(req.name), tuple(sorted(req.extras))


def _lock_lines(doc: dict[str, Any], name: str, *, skip_local: bool, declared: Sequence[str] = ()) -> list[str]:
    packages = doc.get("package")
    if not isinstance(packages, list):
        raise PrepareError(f"{name}: no [[package]] entries")
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise PrepareError(f"{name}: package entry {i + 1} has no name")
    # What pyproject.toml declares ships, whatever group the lock files it under; a declaration
    # the lock lacks (or one the gate cannot read) is described as written.
    # (a lock entry that claims to be local, `source = { virtual = "." }`, is the project's own
    # code only by the lock's word: a declared dependency is never the project itself)
    locked = {canonicalize_name(p["name"]) for p in packages if not _is_local(p)}
    named = [(line, _declared_name(line)) for line in declared]
    extra_roots = [n for _, n in named if n is not None]
    lines = [line for line, n in named if n is None or n[0] not in locked]
    shipped = _uv_runtime(packages, extra_roots) if skip_local else None
    for pkg in packages:
        if skip_local and _is_local(pkg):
            continue  # the project itself
        if shipped is not None and canonicalize_name(pkg["name"]) not in shipped:
            continue  # only a development group's (PEP 735 dependency groups: tests, docs, lint)
        version = pkg.get("version")
        lines.append(f"{pkg['name']}=={version}" if isinstance(version, str) and version else str(pkg["name"]))
    return lines


def _is_local(pkg: dict[str, Any]) -> bool:
    """A uv.lock entry that is the project's own code by the lock's word (`source` editable or virtual)."""
    source = pkg.get("source")
    return isinstance(source, dict) and bool({"editable", "virtual"} & set(source))


def _uv_runtime(packages: list[dict[str, Any]], declared: Sequence[tuple[str, tuple[str, ...]]] = ()) -> set[str] | None:
    """The packages of a uv.lock that ship with the project (issue 17): those its own packages
    (source editable or virtual) reach through `dependencies` and `optional-dependencies` (extras
    a user may install), transitively, with the extras each edge asks for. The dependency
    groups (`dev-dependencies`: tests, docs, lint, typing...) do not ship, as development
    requirement files do not: their packages are neither described nor audited. None (every
    package, as before) when the lock has no package of the project itself to start from.
    `declared`: (name, extras) of what pyproject.toml declares, which ships whatever the lock
    files it under (a dependency group of the lock cannot hide it)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for pkg in packages:
        by_name.setdefault(canonicalize_name(pkg["name"]), []).append(pkg)
    roots = [p for p in packages if _is_local(p)]
    if not roots:
        return None
    seen: set[str] = {n for n, _ in declared}
    todo: list[tuple[dict[str, Any], tuple[str, ...] | None]] = [(p, None) for p in roots]
    todo += [(p, extras) for n, extras in declared for p in by_name.get(n, [])]
    done: set[tuple[int, tuple[str, ...] | None]] = set()
    while todo:
        pkg, extras = todo.pop()
        if (id(pkg), extras) in done:
            continue
        done.add((id(pkg), extras))
        edges = _lock_list(pkg.get("dependencies"), pkg["name"], "dependencies")
        optional = pkg.get("optional-dependencies") or {}
        if not isinstance(optional, dict):
            raise PrepareError(f"uv.lock: {pkg['name']}: optional-dependencies must be a table")
        for extra, deps in optional.items():
            if extras is None or extra in extras:  # the project's own extras: all of them
                edges += _lock_list(deps, pkg["name"], f"optional-dependencies.{extra}")
        for dep in edges:
            if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
                continue
            key = canonicalize_name(dep["name"])
            seen.add(key)
            wanted = tuple(sorted(x for x in _lock_list(dep.get("extra"), pkg["name"], "extra") if isinstance(x, str)))
            for target in by_name.get(key, []):
                todo.append((target, wanted))
    return seen


def _lock_list(value: object, package: str, field: str) -> list[Any]:
    """A list field of a uv.lock entry (absent: empty); any other type is a manifest the gate
    cannot read (PrepareError: the SBOM run fails, the gate closes), never a crash or a guess."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PrepareError(f"uv.lock: {package}: {field} must be a list")
    return list(value)


def _pipfile_lines(path: Path) -> list[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PrepareError(f"Pipfile.lock: cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise PrepareError(f"Pipfile.lock: invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PrepareError("Pipfile.lock: not a JSON object")
    lines = []
    for section in ("default",):  # as `cyclonedx-py pipenv` does: development packages do not ship
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            raise PrepareError(f"Pipfile.lock: `{section}` is not an object")
        for name, spec in sorted(entries.items()):
            version = spec.get("version") if isinstance(spec, dict) else None
            lines.append(f"{name}{version}" if isinstance(version, str) and version.startswith("==") else str(name))
    return lines


def _pyproject_lines(doc: dict[str, Any]) -> list[str]:
    project = doc.get("project")
    if isinstance(project, dict):
        if "dependencies" in (project.get("dynamic") or []):
            raise PrepareError(
                "pyproject.toml declares its dependencies as dynamic (computed by the build backend); "
                "add a requirements file or a lock file so they can be described and audited"
            )
        return _project_requirements(project, "pyproject.toml", optional=False)
    tool = doc.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    deps_table = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(deps_table, dict):
        # Poetry's constraints (^1.2, ~1.2) are not PEP 508: the names alone, unpinned.
        return sorted(str(name) for name in deps_table if str(name).lower() != "python")
    return []


def _logical_lines(text: str) -> Iterable[str]:
    """A requirements file's lines with `\\` continuations joined and comments removed."""
    buf = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            buf += raw[:-1] + " "
            continue
        line = " ".join(_COMMENT.sub("", buf + raw).split())
        buf = ""
        if line:
            yield line
    if buf.strip():
        yield " ".join(_COMMENT.sub("", buf).split())


def _inline(path: Path, root: Path, seen: set[Path], checked: Checked, shown: str) -> None:
    """The lines of a requirements file into `checked.lines`, with `-r` includes inside the project
    inlined and `-c` constraints dropped; an include that leaves the project is an error, not read."""
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    try:
        resolved.relative_to(root)
    except ValueError:
        checked.errors.append(f"{shown}: includes a file outside the project; not read, its requirements are not described")
        return
    try:
        text = resolved.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PrepareError(f"{shown}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PrepareError(f"{shown}: not UTF-8 text") from None
    for line in _logical_lines(text):
        m = _OPTION_WITH_VALUE.match(line)
        if m and m.group(1) in ("-r", "--requirement"):
            _inline(resolved.parent / m.group(2), root, seen, checked, f"{shown} -> {m.group(2)}")
        elif m:
            continue  # constraints narrow versions; they add no dependency and are never read
        else:
            checked.lines.append(line)


def all_pinned(lines: Sequence[str]) -> bool:
    """Every requirement line pins one exact version (`==`/`===`, no wildcard); options are ignored.

    Pinned requirements can be audited as they are (`pip-audit --no-deps --disable-pip`), without
    pip resolving (and building) anything.
    """
    reqs = [ln for ln in lines if not ln.startswith("-")]
    for line in reqs:
        spec = line.split(";", 1)[0]
        spec = re.sub(r"\s--hash[=\s]\S+", "", " " + spec).strip()
        if "@" in spec or "," in spec or not _PIN.search(spec):
            return False
    return True


class SbomRunner(ScannerRunner):
    """cyclonedx-py (cyclonedx-bom): a CycloneDX 1.6 JSON SBOM of the project or an environment."""

    name: ClassVar[str] = "sbom"
    tool: ClassVar[str] = "cyclonedx-py"
    format: ClassVar[str] = "cyclonedx"
    program: ClassVar[str] = "cyclonedx-py"
    dist: ClassVar[str] = "cyclonedx-bom"
    report_name: ClassVar[str] = "sbom.cdx.json"

    def __init__(self, *, environment: str | None = None, output: Path | None = None) -> None:
        self.environment = environment
        self.output = output
        self.manifest: Manifest | None = None
        self.root_copy: Path | None = None

    def report_file(self, out_dir: Path) -> Path:
        """`sbom.cdx.json` in the report folder, or the file `gate sbom -o` names."""
        return self.output if self.output is not None else out_dir / self.report_name

    def derived_file(self) -> Path:
        """The requirement lines handed to `cyclonedx-py requirements` (written by `prepare`)."""
        return self.work_dir / "requirements.txt"

    def copies(self) -> Path:
        """The private folder holding copies of the manifest files cyclonedx-py reads."""
        return self.work_dir / "project"

    def _copy(self, target: Path, rel: str, name: str | None = None) -> Path:
        dest = self.copies() / (name or Path(rel).name)
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            dest.write_bytes(read_regular(target / rel))
        except OSError as exc:
            raise PrepareError(f"{rel}: cannot be read: {exc.strerror or exc}") from None
        return dest

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Find the manifest (or use the environment), check its lines, and put what cyclonedx-py
        reads (checked requirement lines, copies of lock files) into the private work folder."""
        self.root_copy = None
        if self.environment is not None:
            pyproject = target / "pyproject.toml"
            root = "pyproject.toml" if _regular(pyproject) and isinstance(_load_toml(pyproject).get("project"), dict) else None
            self.manifest = Manifest("environment", (self.environment,), root)
            if root:
                self.root_copy = self._copy(target, root, "root-pyproject.toml")
            return Prepared(notes=[f"from the environment {self.environment}"])
        manifest = find_manifest(target)
        if manifest is None:
            return Prepared(not_applicable=NO_MANIFEST)
        self.manifest = manifest
        notes = [f"from {manifest.describe()}", *manifest.development_note()]
        errors: list[str] = []
        if manifest.pyproject:
            self.root_copy = self._copy(target, manifest.pyproject, "root-pyproject.toml")
        if manifest.kind in ("uv", "requirements", "pyproject"):
            checked = checked_requirements(target, manifest)
            notes += checked.notes
            errors += checked.errors
            self.derived_file().write_text("".join(f"{ln}\n" for ln in checked.lines), encoding="utf-8")
            if manifest.kind != "uv":
                notes.append("direct dependencies only (no lock file): transitive dependencies are not listed")
        elif manifest.kind == "poetry":
            checked_requirements(target, manifest)  # a broken lock file fails here, with its name
            self._copy(target, manifest.files[0], "poetry.lock")
            self._copy(target, manifest.files[1], "pyproject.toml")
        elif manifest.kind == "pipenv":
            self._copy(target, manifest.files[0], "Pipfile.lock")
        elif manifest.kind == "setuptools":
            requirement_lines(target, manifest)  # raises PrepareError with the explanation
        return Prepared(notes=notes, errors=errors)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The cyclonedx-py command line for the manifest `prepare` found (run in the work folder)."""
        manifest = self.manifest
        if manifest is None:
            raise PrepareError(NO_MANIFEST)
        out = str(self.report_file(out_dir).resolve())
        # --no-validate: the gate's CycloneDX reader validates every SBOM it reads against the
        # official schema; cyclonedx-py's own check of the same would take 1.5 s of a 1.7 s run.
        common = ["--output-reproducible", "--no-validate", "--of", "JSON", "-o", out]
        root = ["--pyproject", str(self.root_copy)] if self.root_copy is not None else []
        program = self.executable() or self.program
        if manifest.kind == "environment":
            return [program, "environment", *common, *root, manifest.files[0]]
        if manifest.kind == "poetry":
            return [program, "poetry", *common, str(self.copies())]
        if manifest.kind == "pipenv":
            return [program, "pipenv", *common, *root, str(self.copies())]
        return [program, "requirements", *common, *root, str(self.derived_file())]


def component_count(record: RunRecord, shown: str) -> int:
    """How many components the SBOM a finished run wrote lists, from the bytes recorded when
    cyclonedx-py ended (`record.data`; the file is not read again). Raises InputError naming
    `shown` when they are not a CycloneDX JSON object."""
    data = record.data
    if data is None and record.report_path:
        try:
            data = Path(record.report_path).read_bytes()
        except OSError as exc:
            raise InputError(f"cyclonedx-py wrote an unreadable SBOM: {exc.strerror or exc}", file=shown) from None
    try:
        doc = json.loads(data or b"")
        components = doc.get("components") or []
    except (ValueError, AttributeError) as exc:
        raise InputError(f"cyclonedx-py wrote an unreadable SBOM: {exc}", file=shown) from None
    return len(components) if isinstance(components, list) else 0
