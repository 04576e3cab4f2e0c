"""Policies as data: find the Rego modules and data files, read METADATA, refuse what may not run.

A policy folder holds `*.rego` modules (packages under `gate.`; `*_test.rego` are unit tests),
and data files under `config/` (`*.yaml`, `*.yml`, `*.json`), laid out and merged exactly as OPA
loads a folder (`opa test policies`, `opa eval -d policies`): a file's mapping lands at the path of
its folder (`config/x.yaml` at `data.config`, `config/sub/y.json` at `data.config.sub`), mappings
of several files merge, and a value that two files both set is an error, as in OPA (whichever
order). A data file anywhere else is refused: OPA would load it somewhere the gate does not read.
A folder with no data file at all (plain Rego rules) gets the built-in default stage profile.

Every module is parsed before any data file is read, so a syntax error is reported as one (exit 4,
file:line:column) before anything the data may lack. The policy digest is the content digest
(`content_digest`): the deciding modules and the data, equal for a folder, its bundle and the
bundle's manifest. No embedded engine implements `rego.metadata.*`, so the `# METADATA` blocks
are read here, in Python, the same way for every engine.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, PolicyError, Position

# Forbidden builtins are found in the engine's parse tree, in gate.policy_safety (re-exported here).
from gate.policy_safety import FORBIDDEN as FORBIDDEN
from gate.policy_safety import check_forbidden as check_forbidden
from gate.policy_safety import forbidden_calls as forbidden_calls
from gate.records import PolicyInfo, RuleRecord

DATA_DIR = "config"
"""The folder of a policy pack whose data files OPA loads at `data.config` (and the gate too)."""
LEGACY_DATA_DIR = "data"
DATA_SUFFIXES = (".yaml", ".yml", ".json")
SIGNATURES_FILE = ".signatures.json"
"""Bundle metadata OPA's `opa sign` writes at a folder's root: not data (gate.bundle verifies it)."""
DEFAULT_DATA: dict[str, Any] = {"stages": {"default": {"fail_on": "deny"}}}
"""The data of a folder that holds no data file (plain Rego rules): one stage profile, `default`,
that closes the gate on violations; every other setting is the rules' own default."""
DECISIONS = ("deny", "warn")


@dataclass(frozen=True)
class RuleMeta:
    """One rule's METADATA annotation, as the security officer wrote it."""

    id: str
    title: str
    description: str
    severity: str
    control: str
    remediation: str
    package: str
    decision: str
    file: str
    line: int
    effective_on: str | None = None
    stages: tuple[str, ...] | None = None
    related: tuple[str, ...] = ()
    """`related_resources` links (the rule's own documentation)."""

    def to_dict(self) -> RuleRecord:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "severity": self.severity,
            "control": self.control,
            "remediation": self.remediation,
            "package": self.package,
            "decision": self.decision,
            "file": self.file,
            "line": self.line,
            "effective_on": self.effective_on,
            "stages": list(self.stages) if self.stages is not None else None,
            "related_resources": list(self.related),
        }


@dataclass(frozen=True)
class Module:
    """One Rego file: its path relative to the policy root, its text and package."""

    path: str
    text: str
    package: str

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego")


@dataclass
class PolicySet:
    """Everything an engine needs, and everything the verdict says about the policies."""

    root: str
    modules: list[Module]
    data: dict[str, Any]
    data_files: list[str]
    digest: str
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    decision_packages: list[str] = field(default_factory=list)
    revision: str | None = None
    source: str = "directory"

    def policy_modules(self) -> list[Module]:
        """The modules that decide (unit tests excluded)."""
        return [m for m in self.modules if not m.is_test]

    def queries(self) -> list[tuple[str, str]]:
        """(package, decision) pairs to evaluate, e.g. ('gate.sast', 'deny')."""
        return [(pkg, d) for pkg in self.decision_packages for d in DECISIONS if d in self._decisions[pkg]]

    _decisions: dict[str, set[str]] = field(default_factory=dict)

    def data_document(self) -> dict[str, Any]:
        """`data` as the engines receive it."""
        return {"config": self.data}

    def to_dict(self) -> PolicyInfo:
        """The verdict's `policy`."""
        return {"path": self.root, "source": self.source, "digest": self.digest, "revision": self.revision}


_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_RULE_HEAD = re.compile(r"^\s*([A-Za-z_]\w*)(?:\s+contains\b|\s*\[|\s+if\b|\s*:?=|\s*\{)")


def _package_of(text: str, path: str) -> str:
    m = _PACKAGE.search(_strip_comments(text))
    if not m:
        raise PolicyError("no `package` declaration", file=path, position=Position(1, 1))
    return m.group(1)


def _strip_comments(text: str) -> str:
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())


def parse_metadata(module: Module) -> tuple[list[RuleMeta], set[str]]:
    """Read the `# METADATA` blocks that precede `deny`/`warn` rules; also which decisions exist.

    Raises PolicyError naming file and line for a block that is not valid YAML.
    """
    import yaml

    lines = module.text.splitlines()
    metas: list[RuleMeta] = []
    decisions: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        head = _RULE_HEAD.match(line)
        if head and head.group(1) in DECISIONS:
            decisions.add(head.group(1))
        if line.strip() == "# METADATA":
            start = i + 1
            block: list[str] = []
            j = i + 1
            while j < len(lines) and lines[j].lstrip().startswith("#"):
                body = lines[j].lstrip()[1:]
                block.append(body[1:] if body.startswith(" ") else body)
                j += 1
            try:
                meta = load_metadata_yaml("\n".join(block)) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise PolicyError(
                    f"METADATA block is not valid YAML: {getattr(exc, 'problem', exc)}",
                    file=module.path,
                    position=Position(start + (mark.line if mark else 0) + 1, 1),
                ) from None
            # The annotated rule is the next non-blank line.
            k = j
            while k < len(lines) and not lines[k].strip():
                k += 1
            rule_head = _RULE_HEAD.match(lines[k]) if k < len(lines) else None
            rule_name = rule_head.group(1) if rule_head else ""
            if isinstance(meta, dict) and rule_name in DECISIONS:
                metas.append(_meta_from(meta, module, rule_name, k + 1))
            i = j
            continue
        i += 1
    return metas, decisions


def load_metadata_yaml(text: str) -> Any:
    """A METADATA block's YAML, as `yaml.safe_load` (YAML 1.1, as OPA reads annotations) reads it,
    through libyaml: 32 blocks of the shipped pack take 1.8 ms there and 56 ms in the pure-Python
    parser (issue 18). A text libyaml refuses is read again by the pure-Python parser, so what is
    accepted and every error message stay `safe_load`'s. Raises `yaml.YAMLError`."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506  # the safe loader, in C
    except yaml.YAMLError:
        return yaml.safe_load(text)


def _meta_from(meta: Mapping[str, Any], module: Module, decision: str, line: int) -> RuleMeta:
    custom = meta.get("custom") or {}
    if not isinstance(custom, dict):
        custom = {}
    stages = custom.get("stages")
    if isinstance(stages, str):
        stages = [stages]
    elif stages is not None and not isinstance(stages, list):
        raise PolicyError(
            f"custom.stages must be a list of stage names, not {type(stages).__name__}", file=module.path, position=Position(line, 1)
        )
    eff = custom.get("effective_on")
    return RuleMeta(
        id=str(custom.get("id") or ""),
        title=str(meta.get("title") or ""),
        description=str(meta.get("description") or "").strip(),
        severity=str(custom.get("severity") or ""),
        control=str(custom.get("control") or ""),
        remediation=str(custom.get("remediation") or "").strip(),
        package=module.package,
        decision=decision,
        file=module.path,
        line=line,
        effective_on=str(eff) if eff is not None else None,
        stages=tuple(str(s) for s in stages) if isinstance(stages, list) else None,
        related=_related(meta.get("related_resources")),
    )


def _related(value: Any) -> tuple[str, ...]:
    """OPA's `related_resources`: a list of `{ref, description}` objects or of plain URLs."""
    if not isinstance(value, list):
        return ()
    refs = []
    for item in value:
        ref = item.get("ref") if isinstance(item, dict) else item
        if isinstance(ref, str) and ref:
            refs.append(ref)
    return tuple(refs)


REQUIRED_META = ("id", "title", "description", "severity", "control", "remediation")
META_SEVERITIES = ("critical", "high", "medium", "low", "info")


def metadata_problems(policy: PolicySet, metas: Iterable[RuleMeta]) -> list[str]:
    """What is missing or wrong in the METADATA of every rule (for `gate policy check`)."""
    problems = []
    for m in metas:
        where = f"{m.file}:{m.line}"
        for key in REQUIRED_META:
            if not getattr(m, key):
                problems.append(f"{where}: METADATA lacks {'custom.' if key not in ('title', 'description') else ''}{key}")
        if m.severity and m.severity not in META_SEVERITIES:
            problems.append(f"{where}: custom.severity {m.severity!r} is not one of {', '.join(META_SEVERITIES)}")
        if m.effective_on and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", m.effective_on):
            problems.append(f"{where}: custom.effective_on {m.effective_on!r} is not a date (YYYY-MM-DD)")
    return problems


# --------------------------------------------------------------------------------------------
# Loading


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            _deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def load_data_files(paths: Sequence[tuple[str, str]], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge data files (display name, file path) in order, each over the ones before (as
    `--data FILE` is); each must be a mapping. A policy folder's own data merges as OPA merges it
    (`merge_like_opa`)."""
    from gate.documents import yaml as yamldoc

    merged: dict[str, Any] = base if base is not None else {}
    for shown, real in paths:
        doc = yamldoc.load(real, what="data file")
        doc.path = shown
        check_data_scopes(doc, shown)
        _merge_data(merged, doc.value, shown)
    return merged


# Data keys whose values are lists of path scopes (globs anchored at the project root).
SCOPE_KEYS = ("test_paths",)


def check_data_scopes(doc: Any, shown: str) -> None:
    """Refuse a data file whose path scopes name nothing (ConfigError, exit 2, at the glob's line).

    `doc` is the file as `gate.documents.yaml.load` gives it (a value and positions). The schema checks
    the shape; this checks what it cannot say (`gate.paths.scope_problem`), where the line of
    the offending glob is still known (the merged data has no lines).
    """
    from gate.paths import scope_problem

    value = doc.value
    if not isinstance(value, dict):
        return
    for key in SCOPE_KEYS:
        globs = value.get(key)
        if not isinstance(globs, list):
            continue
        for i, glob in enumerate(globs):
            if not isinstance(glob, str):
                continue  # the schema names it
            problem = scope_problem(glob)
            if problem is not None:
                raise ConfigError(
                    f"invalid policy data: {key}[{i}] {glob!r} {problem[0]}: a scope must name something concrete",
                    file=shown,
                    position=doc.position([key, i]),
                    hint=problem[1],
                )


def _merge_data(merged: dict[str, Any], value: Any, shown: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise ConfigError("a data file must hold a mapping at its top level", file=shown, position=Position(1, 1))
    _deep_merge(merged, value)


def validate_data(data: dict[str, Any], shown: str) -> None:
    """Validate the merged data against the data schema (exit 2 on error).

    The merged data has no lines: the error names the key path (`gate.documents.schema`).
    """
    from gate.documents import schema as docschema
    from gate.documents.yaml import Located

    docschema.validate(Located(value=data, path=shown), "data", what="policy data", formats=True)


def default_policy_dir() -> Path:
    """The shipped pack: inside the wheel (`gate/_pack/policies`) or, in a checkout, `policies/`."""
    from importlib import resources

    shipped = Path(str(resources.files("gate"))) / "_pack" / "policies"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent / "policies"


def is_policy_file(rel: str) -> bool:
    """The files of a policy folder that matter to the loader: Rego modules and data files anywhere
    (OPA loads every one; the gate uses those under config/ and refuses the others)."""
    return rel.endswith(".rego") or is_data_file(rel)


def is_data_file(rel: str) -> bool:
    """A file OPA would load as data (`*.yaml`, `*.yml`, `*.json`), bundle signatures excepted."""
    return rel.endswith(DATA_SUFFIXES) and rel != SIGNATURES_FILE


def data_path(rel: str, shown: str) -> list[str]:
    """Where OPA puts a data file of the folder, below `data.config` (its folder's path under config/).

    Raises PolicyError (4) for a data file outside config/: OPA would load it at another path
    than the one the gate reads, so the two would judge with different data.
    """
    parts = rel.split("/")
    if len(parts) > 1 and parts[0] == DATA_DIR:
        return parts[1:-1]
    at = ".".join(["data", *parts[:-1]]) if len(parts) > 1 else "data (the root)"
    if parts[0] == LEGACY_DATA_DIR:
        hint = f"the data folder is {DATA_DIR}/ (OPA loads it at data.config): `git mv {LEGACY_DATA_DIR} {DATA_DIR}` in the policy folder"
    else:
        hint = f"move it under {DATA_DIR}/ (data.config), or out of the policy folder"
    raise PolicyError(f"a data file outside {DATA_DIR}/: OPA would load it at {at}, where no gate rule reads it", file=shown, hint=hint)


def read_policy_folder(root: str | Path) -> dict[str, bytes]:
    """Every regular file under a folder on disk (relative POSIX path -> bytes).

    Raises PolicyError (4) when the folder does not exist or is a file.
    """
    rp = Path(root)
    if not rp.is_dir():
        what = "is a file, not a policy folder (a bundle is read by gate.sources)" if rp.is_file() else "policy folder not found"
        raise PolicyError(what, file=str(root))
    return {p.relative_to(rp).as_posix(): p.read_bytes() for p in sorted(rp.rglob("*")) if p.is_file()}


def load_policy(
    root: str | Path,
    *,
    extra_data: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    include_tests: bool = True,
    check_builtins: bool = True,
    compile_first: bool = True,
) -> PolicySet:
    """Load a policy folder from disk (or, with `files`, the same layout from memory).

    `extra_data` are data files on disk. Bundles and git refs are read by `gate.sources`, which
    hands `policy_from_files` bytes. Raises PolicyError (4) for missing/unusable policies and
    ConfigError (2) for bad data files.
    """
    if files is None:
        files = read_policy_folder(root)
    extra = [(path, _read_data_file(path)) for path in extra_data]
    return policy_from_files(
        str(root), files, extra_data=extra, include_tests=include_tests, check_builtins=check_builtins, compile_first=compile_first
    )


def _read_data_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("data file not found", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read data file: {exc.strerror or exc}", file=path) from None


def policy_from_files(
    root: str,
    files: Mapping[str, bytes],
    *,
    extra_data: Sequence[tuple[str, bytes]] = (),
    include_tests: bool = True,
    check_builtins: bool = True,
    compile_first: bool = True,
) -> PolicySet:
    """A PolicySet from a policy folder's files held in memory (relative path -> bytes).

    `root` is how the folder is named (a path, or `REF:path` for a git ref); modules and data
    files are named `root/rel` in errors. The modules are parsed first (PolicyError, exit 4, at
    file:line:column), then the data under config/ is merged as OPA merges it (ConfigError,
    exit 2); `extra_data` are (name, bytes) pairs merged over it in order (each overrides).
    Files other than Rego modules and data files are ignored.
    """
    modules = []
    data_paths = []
    for rel in sorted(files):
        if not is_policy_file(rel):
            continue
        content = files[rel]
        if rel.endswith(".rego"):
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PolicyError(f"not UTF-8 at byte {exc.start}", file=f"{root}/{rel}") from None
            if not include_tests and rel.endswith("_test.rego"):
                continue
            modules.append(Module(path=f"{root}/{rel}", text=text, package=_package_of(text, f"{root}/{rel}")))
        else:
            data_path(rel, f"{root}/{rel}")
            data_paths.append(rel)
    if not [m for m in modules if not m.is_test]:
        raise PolicyError("no Rego policy (*.rego) in the policy folder", file=root)
    if compile_first:
        compile_modules(modules)
    data = _load_data_from(files, data_paths, root) if data_paths else copy.deepcopy(DEFAULT_DATA)
    merge_data_bytes(data, extra_data)
    policy = PolicySet(
        root=root,
        modules=modules,
        data=data,
        data_files=[f"{root}/{p}" for p in data_paths] + [shown for shown, _ in extra_data],
        digest="",
    )
    _index_rules(policy)
    if check_builtins:
        check_forbidden(policy.modules)
    policy.digest = content_digest(policy)
    return policy


def compile_modules(modules: Sequence[Module]) -> None:
    """Parse every module with the embedded engine; the first error as PolicyError (exit 4) with
    file:line:column and the engine's own lines (the offending source line and its caret)."""
    from gate.engine.compile import build

    build([(m.path, m.text) for m in modules], "{}", None)


def content_digest(policy: PolicySet) -> str:
    """The policy digest: what an engine evaluates, the deciding modules (path in the folder,
    text) and `data`.

    Equal for a folder, for the same folder at a git ref and for any bundle built from it (whose
    manifest records it as its revision and `metadata.gate.content_digest`), wherever each lies;
    `--policy-digest` pins it, and the gate compares it with an OPA server's loaded bundle. Unit
    tests (`*_test.rego`) decide nothing and are not part of it.
    """
    import json

    hasher = hashlib.sha256()
    for rel, text in sorted(relative_modules(policy)):
        hasher.update(b"module\0" + rel.encode() + b"\0" + hashlib.sha256(text.encode("utf-8")).digest())
    # ASCII escapes: a string holding a surrogate pair as two lone surrogates (as some YAML
    # readers produce from JSON escapes) serialises like the character it stands for.
    data = json.dumps(policy.data_document(), sort_keys=True, separators=(",", ":"))
    hasher.update(b"data\0" + hashlib.sha256(data.encode("ascii")).digest())
    return "sha256:" + hasher.hexdigest()


def relative_modules(policy: PolicySet) -> list[tuple[str, str]]:
    """(path inside the policy folder, text) of every deciding module."""
    prefix = policy.root.rstrip("/") + "/"
    out = []
    for m in policy.policy_modules():
        if not m.path.startswith(prefix):
            raise PolicyError(f"module path {m.path!r} is not inside the policy root {policy.root!r}", file=m.path)
        out.append((m.path[len(prefix) :].lstrip("/"), m.text))
    return out


def merge_data_bytes(merged: dict[str, Any], extra_data: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """Merge data files held in memory, (name, bytes) in order, over `merged` (each overrides
    what is there: `--data FILE`); errors use the name."""
    for shown, content in extra_data:
        doc = _read_data_doc(content, shown)
        _merge_data(merged, doc.value, shown)
    return merged


def _read_data_doc(content: bytes, shown: str) -> Any:
    from gate.documents import yaml as yamldoc

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read data file: {exc}", file=shown) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as reading the file in text mode does
    doc = yamldoc.loads(text, shown, what="data file")
    check_data_scopes(doc, shown)
    return doc


def _load_data_from(files: Mapping[str, bytes], rels: Sequence[str], root: str) -> dict[str, Any]:
    """The folder's data files (relative paths under config/) merged as OPA merges them; errors
    name `root/rel`."""
    merged: dict[str, Any] = {}
    owners: dict[tuple[str, ...], str] = {}
    for rel in rels:
        shown = f"{root}/{rel}"
        doc = _read_data_doc(files[rel], shown)
        merge_like_opa(merged, owners, data_path(rel, shown), doc, shown)
    return merged


def merge_like_opa(merged: dict[str, Any], owners: dict[tuple[str, ...], str], at: Sequence[str], doc: Any, shown: str) -> None:
    """Merge one data file's mapping (`doc`, as `gate.documents.yaml` reads it) at path `at` below
    data.config, as OPA's loader does: mappings merge key by key; any other value that two files
    set (even an equal one) is a ConfigError (2) naming both files, at the line of the second.

    `owners` remembers which file first set each path, across calls (for the message).
    """
    value = doc.value
    if not isinstance(value, dict):
        raise ConfigError("a data file must hold a mapping at its top level", file=shown, position=Position(1, 1))
    wrapped: Any = value
    for key in reversed(at):
        wrapped = {key: wrapped}
    _merge_opa(merged, wrapped, (), len(at), owners, doc, shown)


def _merge_opa(
    node: dict[str, Any],
    value: Mapping[str, Any],
    path: tuple[str, ...],
    depth: int,
    owners: dict[tuple[str, ...], str],
    doc: Any,
    shown: str,
) -> None:
    for key, item in value.items():
        here = (*path, str(key))
        if key not in node:
            node[key] = copy.deepcopy(item)
            owners[here] = shown
        elif isinstance(item, Mapping) and isinstance(node[key], dict):
            _merge_opa(node[key], item, here, depth, owners, doc, shown)
        else:
            first = next((owners[here[:i]] for i in range(len(here), 0, -1) if here[:i] in owners), "another file")
            raise ConfigError(
                f"conflicting values at data.{'.'.join((DATA_DIR, *here))}, also defined in {first}",
                file=shown,
                position=doc.position(list(here[depth:])) if len(here) > depth else Position(1, 1),
                hint="OPA refuses two data files that set the same value: keep each setting in one file",
            )


def _index_rules(policy: PolicySet) -> None:
    decisions: dict[str, set[str]] = {}
    for m in policy.policy_modules():
        metas, decs = parse_metadata(m)
        if decs:
            decisions.setdefault(m.package, set()).update(decs)
        for meta in metas:
            if meta.id and meta.id not in policy.rules:
                policy.rules[meta.id] = meta
    policy._decisions = decisions
    policy.decision_packages = sorted(p for p in decisions if p == "gate" or p.startswith("gate."))
    if not policy.decision_packages:
        raise PolicyError(
            "no decision: no package under `gate.` defines `deny` or `warn` (a typo in a package name?)",
            file=policy.root,
        )
