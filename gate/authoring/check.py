"""`gate policy check`: everything that can be wrong with a policy folder, found at once.

The loader (`gate.policy.load_policy`) stops at the first problem, which is right for an
evaluation; a security officer editing the pack wants the whole list. So the checks here run
side by side and each returns problems with file:line:column:

- compile: each module parsed on its own (every syntax error, not only the first), then the
  policy modules together evaluated on an empty run and on a small sample run in every stage,
  which surfaces what regorus only finds when it evaluates a rule (unknown functions, unsafe
  variables, builtin errors on valid input);
- metadata: every `deny`/`warn` rule (found in the parsed AST, so an indented or unusual head
  is not missed) has a `# METADATA` block right above it, complete and well typed;
- forbidden builtins: every call, not only the first;
- data: each data file readable, and the merged data valid against the data schema, each
  error located in the file that set the offending value.

Problems of the policy (compile, metadata, forbidden builtins, a folder that cannot be loaded)
exit 4; problems of the data only exit 2.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate import __version__
from gate.errors import ConfigError, ExitCode, GateError, PolicyError, Position
from gate.output.text import clean
from gate.policy import (
    DECISIONS,
    DEFAULT_DATA,
    PolicySet,
    RuleMeta,
    check_data_scopes,
    content_digest,
    data_path,
    is_data_file,
    is_policy_file,
    load_metadata_yaml,
    load_policy,
    merge_like_opa,
    metadata_problems,
    parse_metadata,
    validate_data,
)
from gate.policy_safety import may_mention, uses_in_ast

# The keys OPA defines for a METADATA annotation, and the `custom` keys the gate reads.
ANNOTATION_KEYS = frozenset(
    {"scope", "title", "description", "related_resources", "authors", "organizations", "schemas", "entrypoint", "custom"}
)
CUSTOM_KEYS = frozenset({"id", "severity", "control", "remediation", "effective_on", "stages"})

POLICY_KINDS = ("load", "compile", "metadata", "forbidden")
REPORT_SCHEMA = "gate.policy-check/v1"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is, and (for compile errors) the offending line with a caret."""

    kind: str  # load | compile | metadata | forbidden | data
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    excerpt: str = ""

    def where(self) -> str:
        """`file:line:column`, or as much of it as is known."""
        if not self.file:
            return ""
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The problem in the JSON report."""
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "excerpt": self.excerpt,
        }

    @classmethod
    def from_error(cls, kind: str, exc: GateError) -> Problem:
        """A problem from a raised error; regorus's source excerpt is split from the message."""
        first, _, rest = exc.message.partition("\n")
        first = first.removeprefix("compile error: ")
        pos = exc.position
        return cls(
            kind=kind,
            message=first + (f" ({exc.hint})" if exc.hint else ""),
            file=exc.file,
            line=pos.line if pos else None,
            column=pos.column if pos else None,
            excerpt=rest.rstrip(),
        )


@dataclass
class CheckReport:
    """What `gate policy check` found."""

    root: str
    modules: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    data_files: list[str] = field(default_factory=list)
    rules: list[RuleMeta] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    digest: str | None = None

    @property
    def exit_code(self) -> int:
        """4 for any policy problem, else 2 for data problems, else 0."""
        kinds = {p.kind for p in self.problems}
        if kinds & set(POLICY_KINDS):
            return int(ExitCode.POLICY)
        if "data" in kinds:
            return int(ExitCode.USAGE)
        return int(ExitCode.OPEN)

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON document `gate policy check --format json` prints (`gate.policy-check/v1`)."""
        return {
            "schema": REPORT_SCHEMA,
            "root": self.root,
            "digest": self.digest,
            "modules": self.modules,
            "tests": self.tests,
            "data_files": self.data_files,
            "rules": [m.to_dict() for m in self.rules],
            "problems": [p.to_dict() for p in self.problems],
            "notes": [p.to_dict() for p in self.notes],
            "exit_code": self.exit_code,
        }


# --------------------------------------------------------------------------------------------
# Reading the folder


def _read_folder(root: Path) -> dict[str, bytes]:
    """The files `load_policy` would read: every *.rego, and every data file (those outside
    config/ are refused, as problems of the data)."""
    files: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and is_policy_file(rel):
            files[rel] = p.read_bytes()
    return files


def _decode_modules(root: str, files: Mapping[str, bytes], report: CheckReport) -> list[tuple[str, str]]:
    sources = []
    for rel in sorted(files):
        if not rel.endswith(".rego"):
            continue
        path = f"{root}/{rel}"
        try:
            sources.append((path, files[rel].decode("utf-8")))
        except UnicodeDecodeError as exc:
            report.problems.append(Problem("load", f"not UTF-8 at byte {exc.start}", file=path))
    return sources


# --------------------------------------------------------------------------------------------
# Compiling


def _parse_each(sources: Sequence[tuple[str, str]], report: CheckReport) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Parse every module alone (so every syntax error is reported); path -> its AST rules, and
    path -> its whole parse tree."""
    from gate.engine.embedded import build

    asts: dict[str, list[dict[str, Any]]] = {}
    trees: dict[str, Any] = {}
    for path, text in sources:
        try:
            engine = build([(path, text)], "{}", None)
        except PolicyError as exc:
            report.problems.append(Problem.from_error("compile", exc))
            continue
        for entry in json.loads(engine.get_ast_as_json()):
            if entry.get("source", {}).get("file") == path:
                trees[path] = entry.get("ast")
                asts[path] = list((entry.get("ast") or {}).get("rules") or [])
    return asts, trees


def empty_input(stage: str = "default") -> dict[str, Any]:
    """The input document of a run that read reports with nothing in them."""
    from gate.pipeline import INPUT_SCHEMA, Context
    from gate.verdict import format_time

    now = format_time(dt.datetime.now(dt.timezone.utc))
    return {
        "schema": INPUT_SCHEMA,
        "context": Context(stage=stage, time=now, gate_version=__version__).to_dict(),
        "findings": [],
        "components": [],
        "scans": [],
        "waivers": [],
    }


def _finding(n: int, kind: str, tool: str, **over: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"{n:032x}",
        "tool": tool,
        "tool_version": "1.0",
        "rule_id": f"SAMPLE-{n}",
        "rule_name": "sample",
        "kind": kind,
        "severity": "high",
        "confidence": "high",
        "message": "sample finding",
        "location": {"path": "src/app.py", "start_line": n, "end_line": n},
        "cwe": ["CWE-78"],
        "cve": [],
        "aliases": [],
        "package": None,
        "suppressed": False,
        "duplicates": [],
        "test_code": False,
        "baseline": "new",
        "source": {"path": f"{tool}.json", "format": "sarif", "index": n},
        "waiver": None,
        "vex": None,
        "help_uri": None,
    }
    record.update(over)
    return record


def _component(name: str, version: str | None, licenses: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "purl": f"pkg:pypi/{name}@{version}" if version else None,
        "type": "library",
        "licenses": licenses,
        "scope": "required",
        "direct": True,
        "hashes": {},
        "source": {"path": "sbom.json", "format": "cyclonedx"},
    }


def _scan(path: str, fmt: str, tool: str, *, complete: bool, findings: int, components: int) -> dict[str, Any]:
    return {
        "path": path,
        "sha256": "0" * 64,
        "format": fmt,
        "tool": tool,
        "tool_version": "1.0",
        "complete": complete,
        "errors": [] if complete else ["sample error"],
        "findings": findings,
        "components": components,
    }


def sample_input(stage: str = "default") -> dict[str, Any]:
    """A small run: one finding of every kind, a duplicate pair, two components, three scans.

    Regorus reports an unknown function or an unsafe variable only when it evaluates the rule
    body that holds it; bodies behind `some f in input.findings` need findings to be reached.
    The document is valid against the input schema (a test proves it), so an error evaluating
    it is a bug of the policy.
    """
    doc = empty_input(stage)
    pkg = {"name": "jinja2", "version": "2.10", "purl": "pkg:pypi/jinja2@2.10", "fixed_versions": ["2.10.1"]}
    doc["findings"] = [
        _finding(1, "sast", "bandit", duplicates=[f"{2:032x}"]),
        _finding(2, "sast", "semgrep", duplicates=[f"{1:032x}"], severity="medium", confidence="unknown"),
        _finding(3, "dependency", "pip-audit", package=pkg, location=None, cve=["CVE-2019-10906"], severity="unknown"),
        _finding(4, "secret", "gitleaks", test_code=True),
        _finding(5, "iac", "checkov", baseline="existing"),
        _finding(6, "license", "scancode", severity="low"),
        _finding(7, "other", "custom", severity="unknown", confidence="low"),
    ]
    doc["components"] = [_component("jinja2", "2.10", ["BSD-3-Clause"]), _component("mystery", None, [])]
    doc["scans"] = [
        _scan("bandit.json", "bandit", "bandit", complete=True, findings=1, components=0),
        _scan("semgrep.json", "semgrep", "semgrep", complete=False, findings=1, components=0),
        _scan("sbom.json", "cyclonedx", "cyclonedx-py", complete=True, findings=0, components=2),
    ]
    return doc


def _evaluate_all(engine: Any) -> str:
    return str(engine.eval_query_as_json("data"))


def _trial_evaluations(policy: PolicySet, data: Mapping[str, Any], timeout: float, report: CheckReport) -> None:
    """Evaluate all of `data` on an empty run, then on a sample run in every stage of the data.

    Regorus finds some compile errors (unknown functions, unsafe variables) only when it
    evaluates the rule that holds them; the first error found is reported.
    """
    from gate.engine.embedded import build, run_limited

    stages = data.get("stages")
    names = sorted({"default", *(stages if isinstance(stages, dict) else ())})
    trials = [("an empty input", empty_input())] + [(f"a sample input at stage {s}", sample_input(s)) for s in names]
    modules = [(m.path, m.text) for m in policy.policy_modules()]
    data_json = json.dumps({"config": data})
    for what, doc in trials:
        try:
            engine = build(modules, data_json, json.dumps(doc))
            run_limited(functools.partial(_evaluate_all, engine), timeout)
        except PolicyError as exc:
            p = Problem.from_error("compile", exc)
            message = p.message.removeprefix("evaluation error: ")
            report.problems.append(
                Problem(p.kind, f"{message} (found evaluating every rule on {what})", p.file, p.line, p.column, p.excerpt)
            )
            return


# --------------------------------------------------------------------------------------------
# METADATA


def _head_name(head: Mapping[str, Any]) -> tuple[str | None, int, int]:
    """(rule name when the head is a plain name, line, column) of a rule head in the AST."""
    for kind in ("Set", "Compr", "Func"):
        node = head.get(kind)
        if isinstance(node, dict):
            refr = node.get("refr") or {}
            var = refr.get("Var") if isinstance(refr, dict) else None
            span = node.get("span") or {}
            if isinstance(var, dict):
                return str(var.get("value")), int(span.get("line", 0)), int(span.get("col", 0))
            return None, int(span.get("line", 0)), int(span.get("col", 0))
    return None, 0, 0


def decision_heads(rules: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    """(deny|warn, line, column) of every decision rule in a module's AST."""
    out = []
    for rule in rules:
        spec = rule.get("Spec")
        if not isinstance(spec, dict):
            continue
        name, line, col = _head_name(spec.get("head") or {})
        if name in DECISIONS:
            out.append((name, line, col))
    return out


def _raw_block(text: str, rule_line: int) -> tuple[int, dict[str, Any]] | None:
    """(line of `# METADATA`, parsed block) of the annotation right above a rule head, if any."""
    import yaml

    lines = text.splitlines()
    k = rule_line - 2  # 0-based index of the line above the head
    while k >= 0 and not lines[k].strip():
        k -= 1
    end = k
    while k >= 0 and lines[k].lstrip().startswith("#") and lines[k].strip() != "# METADATA":
        k -= 1
    if k < 0 or lines[k].strip() != "# METADATA":
        return None
    body = []
    for raw in lines[k + 1 : end + 1]:
        b = raw.lstrip()[1:]
        body.append(b[1:] if b.startswith(" ") else b)
    try:
        value = load_metadata_yaml("\n".join(body)) or {}
    except yaml.YAMLError:
        return k + 1, {}  # parse_metadata reports the YAML error itself
    return k + 1, value if isinstance(value, dict) else {}


def _near(key: str, known: frozenset[str]) -> str | None:
    match = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return match[0] if match else None


def _check_keys(path: str, line: int, block: Mapping[str, Any], stage_names: set[str] | None, report: CheckReport) -> None:
    """Misspelt and mistyped METADATA keys: a misspelt `effective_on` would block at once."""
    for key in sorted(str(k) for k in block):
        if key not in ANNOTATION_KEYS:
            near = _near(key, ANNOTATION_KEYS)
            if near:
                report.problems.append(Problem("metadata", f"METADATA key {key!r} is not known: did you mean {near!r}?", path, line))
            else:
                report.notes.append(
                    Problem("metadata", f"METADATA key {key!r} is not an OPA annotation key; the gate ignores it", path, line)
                )
    custom = block.get("custom")
    if custom is None:
        return
    if not isinstance(custom, dict):
        report.problems.append(
            Problem("metadata", "METADATA custom must be a mapping (id, severity, control, remediation, ...)", path, line)
        )
        return
    for key in sorted(str(k) for k in custom):
        if key not in CUSTOM_KEYS:
            near = _near(key, CUSTOM_KEYS)
            if near:
                report.problems.append(
                    Problem("metadata", f"METADATA key custom.{key} is not known: did you mean custom.{near}?", path, line)
                )
            else:
                report.notes.append(Problem("metadata", f"METADATA key custom.{key} is not read by the gate", path, line))
    stages = custom.get("stages")
    if stages is not None:
        if not isinstance(stages, list) or not all(isinstance(s, str) and s for s in stages) or not stages:
            report.problems.append(
                Problem("metadata", "custom.stages must be a non-empty list of stage names, e.g. [staging, prod]", path, line)
            )
        elif stage_names is not None:
            unknown = sorted(set(stages) - stage_names)
            if unknown:
                known = ", ".join(sorted(stage_names)) or "(none)"
                report.problems.append(
                    Problem(
                        "metadata",
                        f"custom.stages names {', '.join(unknown)}, not a stage of the data (stages: {known}): "
                        "the rule would never apply there",
                        path,
                        line,
                    )
                )
    eff = custom.get("effective_on")
    if eff is not None and not isinstance(eff, (dt.date, str)):
        report.problems.append(Problem("metadata", "custom.effective_on must be a date (YYYY-MM-DD)", path, line))


def _check_metadata(policy: PolicySet, asts: Mapping[str, list[dict[str, Any]]], stage_names: set[str] | None, report: CheckReport) -> None:
    metas: list[RuleMeta] = []
    for module in policy.policy_modules():
        try:
            found, _ = parse_metadata(module)
        except PolicyError as exc:
            report.problems.append(Problem.from_error("metadata", exc))
            continue
        metas.extend(found)
        annotated = {m.line for m in found}
        for decision, line, col in decision_heads(asts.get(module.path, [])):
            if line in annotated:
                continue
            hint = " (a rule head must start at column 1 for its METADATA to be read)" if col != 1 else ""
            report.problems.append(
                Problem("metadata", f"`{decision}` rule has no # METADATA block right above it{hint}", module.path, line, col)
            )
        for meta in found:
            raw = _raw_block(module.text, meta.line)
            if raw is not None:
                _check_keys(module.path, raw[0], raw[1], stage_names, report)
            if not meta.description:
                report.problems.append(Problem("metadata", "METADATA lacks description", meta.file, meta.line))
    prefixes = {f"{m.file}:{m.line}: ": m for m in metas}
    for text in metadata_problems(policy, metas):
        owner = next((m for p, m in prefixes.items() if text.startswith(p)), None)
        if owner is None:
            report.problems.append(Problem("metadata", text))
        else:
            report.problems.append(Problem("metadata", text[len(f"{owner.file}:{owner.line}: ") :], owner.file, owner.line))
    by_id: dict[str, list[RuleMeta]] = {}
    for m in metas:
        if m.id:
            by_id.setdefault(m.id, []).append(m)
    for rid, same in sorted(by_id.items()):
        kinds = {(m.package, m.decision) for m in same}
        if len(kinds) > 1:
            first = same[0]
            for other in same[1:]:
                if (other.package, other.decision) != (first.package, first.decision):
                    report.problems.append(
                        Problem(
                            "metadata",
                            f"custom.id {rid} is also used by the {first.decision} rule at {first.file}:{first.line}: "
                            "each rule needs its own id",
                            other.file,
                            other.line,
                        )
                    )
    report.rules = sorted(metas, key=lambda m: (m.file, m.line))


# --------------------------------------------------------------------------------------------
# Data


def _located_in(files: Sequence[tuple[str, Any]], json_path: Sequence[str | int]) -> tuple[str, Position | None]:
    """The last data file (in merge order) that sets `json_path` (or its nearest parent), and where."""
    for depth in range(len(json_path), -1, -1):
        prefix = list(json_path[:depth])
        for shown, located in reversed(files):
            node: Any = located.value
            try:
                for part in prefix:
                    node = node[part]
            except (KeyError, IndexError, TypeError):
                continue
            return shown, located.position(prefix)
    return files[-1][0], None


def _check_data(root: str, files: Mapping[str, bytes], report: CheckReport, base_dir: Path | None) -> dict[str, Any]:
    """Load each data file on its own, merge the good ones, validate the whole; the merged data.

    jsonschema-rs (`gate.documents.schema`) passes valid data in about a millisecond and lists
    every error of invalid data with its path.
    """
    from gate.documents import schema as docschema
    from gate.documents import yaml as yamldoc

    merged: dict[str, Any] = {}
    owners: dict[tuple[str, ...], str] = {}
    located: list[tuple[str, Any]] = []
    rels = sorted(r for r in files if is_data_file(r))
    for rel in rels:
        shown = f"{root}/{rel}"
        report.data_files.append(shown)
        real = str(base_dir / rel) if base_dir is not None else shown
        try:
            at = data_path(rel, shown)
            doc = yamldoc.load(real, what="data file")
            check_data_scopes(doc, shown)
            merge_like_opa(merged, owners, at, doc, shown)
        except (ConfigError, PolicyError) as exc:
            report.problems.append(Problem.from_error("data" if isinstance(exc, ConfigError) else "load", exc))
            continue
        located.append((shown, doc))
    if not rels:
        merged = copy.deepcopy(DEFAULT_DATA)
    errors = [] if docschema.is_valid(merged, "data", formats=True) else docschema.problems(merged, "data", formats=True)
    for err in errors:
        if located:
            shown, pos = _located_in(located, list(err.path))
        else:
            shown, pos = root, None
        message = f"invalid policy data at {err.where}: {err.message}"
        report.problems.append(Problem("data", message, shown, pos.line if pos else None, pos.column if pos else None))
    if not errors and not any(p.kind == "data" for p in report.problems):
        try:
            validate_data(merged, root)
        except ConfigError as exc:
            report.problems.append(Problem.from_error("data", exc))
    return merged


# --------------------------------------------------------------------------------------------


def check_policy(root: str | Path, *, timeout: float = 60.0) -> CheckReport:
    """Check a policy folder (or bundle); never raises for a problem of the policies themselves."""
    root_s = str(root)
    report = CheckReport(root=root_s)
    rp = Path(root_s)
    if not rp.exists():
        report.problems.append(Problem("load", "policy folder not found", file=root_s))
        return report
    if rp.is_file():
        # A bundle: the loader unpacks it; its problems stop the check.
        try:
            policy = load_policy(rp, include_tests=True, check_builtins=False)
        except GateError as exc:
            report.problems.append(Problem.from_error("data" if isinstance(exc, ConfigError) else "load", exc))
            return report
        files = {m.path.removeprefix(policy.root + "/"): m.text.encode() for m in policy.modules}
        data: dict[str, Any] | None = policy.data
        digest: str | None = policy.digest
        base_dir = None
    else:
        files = _read_folder(rp)
        data = digest = None
        base_dir = rp
    sources = _decode_modules(root_s, files, report)
    report.modules = [p for p, _ in sources if not p.endswith("_test.rego")]
    report.tests = [p for p, _ in sources if p.endswith("_test.rego")]
    asts, trees = _parse_each(sources, report)
    texts = dict(sources)
    for path, tree in trees.items():
        # Found in the parse tree regorus built (gate.policy_safety), every use, not only the first.
        if not may_mention(texts[path]):
            continue  # names no forbidden root: nothing to find (see gate.policy_safety)
        for use in uses_in_ast(path, texts[path], tree):
            how = "" if use.how == "call" else f" ({use.how})"
            report.problems.append(
                Problem("forbidden", f"{use.name}{how}: it {use.reason}; policies may not use it", path, use.line, use.column)
            )
    rego_only = {rel: content for rel, content in files.items() if rel.endswith(".rego")}
    try:
        # Each module was parsed on its own above (every syntax error is listed), so not again here.
        policy = load_policy(root_s, files=rego_only, include_tests=True, check_builtins=False, compile_first=False)
    except GateError as exc:
        # Already explained when the same file failed to parse or decode.
        if not any(p.file == exc.file for p in report.problems if p.kind in ("compile", "load")):
            report.problems.append(Problem.from_error("load", exc))
        _finish(report)
        return report
    if data is None:
        data = _check_data(root_s, files, report, base_dir)
        # The policy digest covers the data: the one the evaluation and the bundle give, unless the
        # data has problems (then there is no policy set to name).
        policy.data = data
        digest = None if any(p.kind == "data" for p in report.problems) else content_digest(policy)
        report.digest = digest
    else:
        report.digest = digest
        try:
            validate_data(data, root_s)
        except ConfigError as exc:
            report.problems.append(Problem.from_error("data", exc))
    stages = data.get("stages")
    stage_names = set(stages) | {"default"} if isinstance(stages, dict) else None
    _check_metadata(policy, asts, stage_names, report)
    if not any(p.kind in ("compile", "load", "forbidden") for p in report.problems):
        _trial_evaluations(policy, data, timeout, report)
    _finish(report)
    return report


def _finish(report: CheckReport) -> None:
    """Each problem once, in file and line order."""
    report.problems = sorted(set(report.problems), key=Problem.sort_key)
    report.notes = sorted(set(report.notes), key=Problem.sort_key)


# --------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class Rendered:
    """A report as the CLI prints it: the body on stdout, the problems (text format) on stderr."""

    stdout: str
    stderr: str = ""


LABELS = {
    "compile": "compile error",
    "forbidden": "forbidden builtin",
    "metadata": "METADATA error",
    "data": "data error",
    "load": "error",
}


def _problem_lines(p: Problem, label: str) -> list[str]:
    where = clean(p.where())
    lines = [f"{where}: {label}: {clean(p.message)}" if where else f"{label}: {clean(p.message)}"]
    lines.extend("    " + clean(ln) for ln in p.excerpt.splitlines())
    return lines


def _joined(lines: Sequence[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def render_text(report: CheckReport) -> Rendered:
    """For the terminal: the rule table and the summary line on stdout, each problem and note on
    stderr with its file:line:column (every piece of policy text cleaned)."""
    err: list[str] = []
    for problem in report.problems:
        err.extend(_problem_lines(problem, LABELS.get(problem.kind, "error")))
    for note in report.notes:
        err.extend(_problem_lines(note, "note"))
    out: list[str] = []
    if report.rules:
        rows = [
            (
                clean(m.id or "(no id)", 40),
                m.decision,
                clean(m.severity or "?", 10),
                clean(m.title or "(no title)", 70),
                clean(f"{m.file}:{m.line}"),
            )
            for m in report.rules
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        out.append(f"rules ({len(rows)}):")
        for r in rows:
            out.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    n = len(report.problems)
    out.append(
        f"policy check: {len(report.modules)} module(s), {len(report.tests)} test module(s), {len(report.data_files)} data file(s), "
        f"{len(report.rules)} rule(s): " + (f"{n} problem(s); exit {report.exit_code}" if n else "no problems")
    )
    return Rendered(stdout=_joined(out), stderr=_joined(err))


def render_json(report: CheckReport) -> Rendered:
    """The report as one JSON document (`gate.policy-check/v1`) on stdout."""
    return Rendered(stdout=json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


RENDERERS: dict[str, Callable[[CheckReport], Rendered]] = {"text": render_text, "json": render_json}
"""`gate policy check --format` choices (the first is the default)."""
