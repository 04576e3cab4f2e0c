"""SBOM generation: a CycloneDX JSON SBOM of a Python project or environment, with cyclonedx-py.

Which dependency manifest describes a project, in order of preference (the first found wins):

| manifest | SBOM from | dependency audit (pip-audit) from |
|---|---|---|
| `poetry.lock` | `cyclonedx-py poetry` | its pinned packages, `--no-deps` |
| `Pipfile.lock` | `cyclonedx-py pipenv` | its pinned `default` packages, `--no-deps` |
| `uv.lock` | its pinned packages, `cyclonedx-py requirements` | its pinned packages, `--no-deps` |
| `requirements*.txt`, `requirements/*.txt` | their lines (`-r` includes inlined), `cyclonedx-py requirements` | the files themselves |
| `pyproject.toml` dependencies (PEP 621 or Poetry) | those lines, `cyclonedx-py requirements` | those lines |
| `setup.py` / `setup.cfg` only | refused: their dependencies cannot be read without running them | refused |

A lock file lists every package, transitive ones included, pinned; a requirements file or
`pyproject.toml` lists what it names (cyclonedx-py adds no transitive dependencies). The
root component comes from `pyproject.toml` (`--pyproject`) where it has a `[project]` table.
An environment (`--environment PYTHON`) is described with `cyclonedx-py environment`.

Requirement lines are handed to cyclonedx-py as one file with `-r` includes inlined (an include
that leaves the project is refused), so component references are line-based and the SBOM is
reproducible (`--output-reproducible`: no timestamp, no random serial number). cyclonedx-py's
own schema check is skipped (`--no-validate`): the gate's reader validates the SBOM when it reads
it, and the check is most of cyclonedx-py's run time.

A project with none of these has no declared dependencies: SBOM generation and the dependency
audit are `not_applicable` (see `scanners.run.interface.RunRecord.scan_entry` for what that
means for the verdict).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from scanners.run.interface import Prepared, PrepareError, ScannerRunner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MANIFEST_KINDS: Final = ("poetry", "pipenv", "uv", "requirements", "pyproject", "setuptools")

NO_MANIFEST: Final = (
    "no dependency manifest in the project (requirements*.txt, pyproject.toml dependencies, poetry.lock, "
    "Pipfile.lock, uv.lock): it declares no dependencies to describe or audit"
)

_OPTION_WITH_VALUE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)\s*$")
_COMMENT = re.compile(r"(^|\s)#.*$")
_PIN = re.compile(r"===?\s*[^\s,;*]+\s*$")


@dataclass(frozen=True)
class Manifest:
    """The file(s) that declare a project's dependencies. Paths are relative to the project."""

    kind: str
    files: tuple[str, ...]
    pyproject: str | None = None
    """`pyproject.toml` when it has a `[project]` table (the SBOM's root component)."""

    def describe(self) -> str:
        """`requirements (requirements.txt, requirements-dev.txt)`."""
        return f"{self.kind} ({', '.join(self.files)})"


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PrepareError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PrepareError(f"{path.name}: invalid TOML: {exc}") from None


def _requirement_files(target: Path) -> list[str]:
    found = sorted(p.name for p in target.glob("requirements*.txt") if p.is_file())
    sub = target / "requirements"
    if sub.is_dir():
        found += sorted(f"requirements/{p.name}" for p in sub.glob("*.txt") if p.is_file())
    return found


def find_manifest(target: Path) -> Manifest | None:
    """The manifest that best describes the project's dependencies, or None when it declares none."""
    pyproject_path = target / "pyproject.toml"
    pyproject = _load_toml(pyproject_path) if pyproject_path.is_file() else None
    root = "pyproject.toml" if pyproject is not None and isinstance(pyproject.get("project"), dict) else None
    if (target / "poetry.lock").is_file() and pyproject is not None:
        return Manifest("poetry", ("poetry.lock", "pyproject.toml"), root)
    if (target / "Pipfile.lock").is_file():
        return Manifest("pipenv", ("Pipfile.lock",), root)
    if (target / "uv.lock").is_file():
        return Manifest("uv", ("uv.lock",), root)
    files = _requirement_files(target)
    if files:
        return Manifest("requirements", tuple(files), root)
    if pyproject is not None and _declares_dependencies(pyproject):
        return Manifest("pyproject", ("pyproject.toml",), root)
    setup = [n for n in ("setup.py", "setup.cfg") if (target / n).is_file()]
    if setup:
        return Manifest("setuptools", tuple(setup), root)
    return None


def _declares_dependencies(pyproject: dict[str, Any]) -> bool:
    project = pyproject.get("project")
    if isinstance(project, dict) and ("dependencies" in project or "dependencies" in (project.get("dynamic") or [])):
        return True
    poetry = pyproject.get("tool", {}).get("poetry") if isinstance(pyproject.get("tool"), dict) else None
    return isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict)


def requirement_lines(target: Path, manifest: Manifest) -> list[str]:
    """The manifest's dependencies as requirement lines (pinned `name==version` for lock files)."""
    if manifest.kind == "poetry":
        return _lock_lines(_load_toml(target / "poetry.lock"), "poetry.lock", skip_local=False)
    if manifest.kind == "uv":
        return _lock_lines(_load_toml(target / "uv.lock"), "uv.lock", skip_local=True)
    if manifest.kind == "pipenv":
        return _pipfile_lines(target / "Pipfile.lock")
    if manifest.kind == "requirements":
        lines: list[str] = []
        seen: set[Path] = set()
        for name in manifest.files:
            lines += _inline(target / name, target.resolve(), seen)
        return lines
    if manifest.kind == "pyproject":
        return _pyproject_lines(_load_toml(target / "pyproject.toml"))
    raise PrepareError(
        f"dependencies declared in {', '.join(manifest.files)} cannot be read without running the project's build code; "
        "add a requirements file or a lock file (pip-compile, poetry lock, uv lock) so they can be described and audited"
    )


def _lock_lines(doc: dict[str, Any], name: str, *, skip_local: bool) -> list[str]:
    packages = doc.get("package")
    if not isinstance(packages, list):
        raise PrepareError(f"{name}: no [[package]] entries")
    lines = []
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise PrepareError(f"{name}: package entry {i + 1} has no name")
        source = pkg.get("source")
        if skip_local and isinstance(source, dict) and ({"editable", "virtual"} & set(source)):
            continue  # the project itself
        version = pkg.get("version")
        lines.append(f"{pkg['name']}=={version}" if isinstance(version, str) and version else str(pkg["name"]))
    return lines


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
        deps = project.get("dependencies", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise PrepareError("pyproject.toml: [project].dependencies must be a list of strings")
        return [str(d) for d in deps]
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


def _inline(path: Path, root: Path, seen: set[Path]) -> list[str]:
    """The lines of a requirements file with `-r` includes inlined and `-c` constraints dropped."""
    resolved = path.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    try:
        resolved.relative_to(root)
    except ValueError:
        raise PrepareError(f"{path.name}: includes a file outside the project ({path}); refused") from None
    try:
        text = resolved.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PrepareError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PrepareError(f"{path.name}: not UTF-8 text") from None
    lines: list[str] = []
    for line in _logical_lines(text):
        m = _OPTION_WITH_VALUE.match(line)
        if m and m.group(1) in ("-r", "--requirement"):
            lines += _inline(resolved.parent / m.group(2), root, seen)
        elif m:
            continue  # constraints narrow versions; they add no dependency
        else:
            lines.append(line)
    return lines


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

    def report_file(self, out_dir: Path) -> Path:
        """`sbom.cdx.json` in the report folder, or the file `gate sbom -o` names."""
        return self.output if self.output is not None else out_dir / self.report_name

    def derived_file(self) -> Path:
        """The requirement lines handed to `cyclonedx-py requirements` (written by `prepare`)."""
        return self.work_dir / "requirements.txt"

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Find the manifest (or use the environment) and write the requirement lines cyclonedx-py reads."""
        if self.environment is not None:
            pyproject = target / "pyproject.toml"
            root = "pyproject.toml" if pyproject.is_file() and isinstance(_load_toml(pyproject).get("project"), dict) else None
            self.manifest = Manifest("environment", (self.environment,), root)
            return Prepared(notes=[f"from the environment {self.environment}"])
        manifest = find_manifest(target)
        if manifest is None:
            return Prepared(not_applicable=NO_MANIFEST)
        self.manifest = manifest
        notes = [f"from {manifest.describe()}"]
        if manifest.kind in ("uv", "requirements", "pyproject"):
            lines = requirement_lines(target, manifest)
            self.derived_file().write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
            if manifest.kind != "uv":
                notes.append("direct dependencies only (no lock file): transitive dependencies are not listed")
        elif manifest.kind == "setuptools":
            requirement_lines(target, manifest)  # raises PrepareError with the explanation
        return Prepared(notes=notes)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The cyclonedx-py command line for the manifest `prepare` found (run in `target`)."""
        manifest = self.manifest if self.manifest is not None else find_manifest(target)
        if manifest is None:
            raise PrepareError(NO_MANIFEST)
        out = str(self.report_file(out_dir).resolve())
        # --no-validate: the gate's CycloneDX reader validates every SBOM it reads against the
        # official schema; cyclonedx-py's own check of the same would take 1.5 s of a 1.7 s run.
        common = ["--output-reproducible", "--no-validate", "--of", "JSON", "-o", out]
        root = ["--pyproject", manifest.pyproject] if manifest.pyproject else []
        program = self.executable() or self.program
        if manifest.kind == "environment":
            return [program, "environment", *common, *root, manifest.files[0]]
        if manifest.kind == "poetry":
            return [program, "poetry", *common, "."]
        if manifest.kind == "pipenv":
            return [program, "pipenv", *common, *root, "."]
        return [program, "requirements", *common, *root, str(self.derived_file())]
