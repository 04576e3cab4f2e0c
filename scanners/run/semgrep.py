"""Run semgrep with the gate's own rule pack (`scanners/rules`) and any configs the user adds.

    semgrep scan --metrics off --disable-version-check --config <pack> [--config p/...]
                 --no-rewrite-rule-ids --sarif-output OUT/semgrep.sarif --json-output WORK/semgrep.json
                 --x-semgrepignore-filename=.gate-semgrepignore-<random> --no-git-ignore
                 --max-target-bytes=0 --scan-unknown-extensions --quiet -- . [other sources by name]

with SEMGREP_ENABLE_VERSION_CHECK=0 in its environment, in the gate's snapshot of the project's
source (`scanners.run.coverage`): a private copy of exactly the source files the data says to
scan. semgrep 1.x reads `.semgrepignore` (and `.gitignore` in a git project) from the project
root and below, and, where the root has none, applies a built-in list that skips `tests/`,
`test/`, `node_modules/`, `build/`, `dist/`, `vendor/`, `.venv/`, `.tox/` and more. None of the
tree's files are in the snapshot; the gate writes an empty ignore file of its own, under a name
chosen at random for each run, at the snapshot's root and tells semgrep to read ignore files of
that name (`--x-semgrepignore-filename`, an internal option: a semgrep without it fails loudly,
an incomplete scan), so the built-in list does not apply either. Measured with semgrep 1.187:
an absolute path given to that option makes semgrep scan nothing at all, silently; which is
why the gate also checks what semgrep says it scanned (`paths.scanned` of its JSON) against
what it was given, and lists the difference as unscanned.

Why the SARIF report is the one evaluated: inline suppressions must be recorded, not obeyed.
semgrep 1.x drops results on `# nosemgrep` lines from its JSON output (with `--disable-nosem` it
reports them, but unmarked, and its JSON never sets `is_ignored` in the open-source engine);
only its SARIF output keeps them, marked with `suppressions: [{"kind": "inSource"}]`, which the
SARIF reader turns into `suppressed: true`. The same run also writes semgrep's JSON, which carries
errors the SARIF leaves out or only warns about (a file semgrep could parse only in part is a
`warning` notification in SARIF, an error in JSON); the runner reads that JSON with the gate's
semgrep reader and, when it reports errors, the run counts as incomplete with those errors.

- Rule ids are not rewritten (`--no-rewrite-rule-ids`): semgrep would otherwise prefix them with
  the pack's install path, and fingerprints, waivers and baselines would change with it.
- `--max-target-bytes=0`: no file is skipped for its size (semgrep skips files over 1 MB by default).
- Sources whose name does not end in `.py` (a `.pyw`, a script with a Python shebang) are named on
  the command line with `--scan-unknown-extensions`, so semgrep applies the Python rules to them.
- Exit code 0 means semgrep ran, with or without findings (the gate does not pass `--error`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import ClassVar

from gate.errors import InputError
from scanners.run.coverage import semgrep_scanned
from scanners.run.interface import Execution, Prepared, ScannerRunner, find_named, program_version

IGNORE_FILE_PREFIX = ".gate-semgrepignore-"
"""The start of the ignore-file name semgrep is told to read (the rest is random, per run)."""

IGNORE_FILE_NAME = ".policy-gate-semgrepignore"
"""The fixed name earlier versions told semgrep to read: a file of that name in the tree is noted, never obeyed."""

_REGISTRY_PREFIXES = ("p/", "r/", "s/", "auto", "http://", "https://", "supply-chain")


def rules_dir() -> Path:
    """The gate's semgrep rule pack: `scanners/rules`, in the checkout or inside the installed wheel."""
    return Path(str(resources.files("scanners").joinpath("rules")))


def resolve_config(config: str) -> str:
    """A `--config` as semgrep should see it from the project directory: local paths made absolute,
    registry names (`p/python`, `r/...`) and URLs as given."""
    if config.startswith(_REGISTRY_PREFIXES):
        return config
    path = Path(config)
    return str(path.resolve()) if path.exists() else config


class SemgrepRunner(ScannerRunner):
    """semgrep with the gate's rule pack, SARIF report (plus its JSON for errors)."""

    name: ClassVar[str] = "semgrep"
    tool: ClassVar[str] = "semgrep"
    format: ClassVar[str] = "sarif"
    program: ClassVar[str] = "semgrep"
    dist: ClassVar[str] = "semgrep"
    report_name: ClassVar[str] = "semgrep.sarif"
    code_scanner: ClassVar[bool] = True

    def __init__(self, extra_configs: Sequence[str] = (), *, rules: Path | None = None) -> None:
        self.rules = rules or rules_dir()
        self.extra_configs = tuple(resolve_config(c) for c in extra_configs)
        self.ignore_name = IGNORE_FILE_PREFIX + secrets.token_hex(8)

    def env_additions(self) -> dict[str, str]:
        """No version check, no metrics, whatever the user's environment says."""
        return {**super().env_additions(), "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}

    def json_file(self) -> Path:
        """Where the same run writes semgrep's JSON (read for its errors, not evaluated)."""
        return self.work_dir / "semgrep.json"

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Write the gate's (empty) ignore file into the snapshot; note the project's ignore files, not obeyed."""
        self.ignore_name = IGNORE_FILE_PREFIX + secrets.token_hex(8)
        if self.plan is not None:
            (self.plan.snapshot / self.ignore_name).write_text("# written by policy-gate: nothing is ignored\n", encoding="utf-8")
        found = find_named(target, [".semgrepignore", IGNORE_FILE_NAME, ".gitignore"])
        notes = [f"project ignore files not obeyed: {', '.join(found)}"] if found else []
        if not self.rules.is_dir():
            notes.append(f"the gate's rule pack is missing at {self.rules}")
        return Prepared(notes=notes)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The semgrep command line (run in the snapshot `target`)."""
        argv = [self.executable() or self.program, "scan", "--metrics", "off", "--disable-version-check", "--config", str(self.rules)]
        for config in self.extra_configs:
            argv += ["--config", config]
        others = self.plan.survey.by_extension()[1] if self.plan is not None else []
        argv += [
            "--no-rewrite-rule-ids",
            "--sarif-output",
            str(self.report_file(out_dir).resolve()),
            "--json-output",
            str(self.json_file()),
            f"--x-semgrepignore-filename={self.ignore_name}",
            "--no-git-ignore",
            "--max-target-bytes=0",
            "--quiet",
        ]
        if others:
            argv.append("--scan-unknown-extensions")
        return [*argv, "--", ".", *others]

    def version(self, program: str, report: Path | None) -> str | None:
        """`tool.driver.semanticVersion` of the SARIF report (`semgrep --version` takes seconds)."""
        if report is not None:
            try:
                doc = json.loads(report.read_text(encoding="utf-8"))
                version = doc["runs"][0]["tool"]["driver"]["semanticVersion"]
            except (OSError, ValueError, KeyError, IndexError, TypeError):
                version = None
            if isinstance(version, str) and version:
                return version
        return program_version(program, self.dist)

    def finish(self, run: Execution, report: Path) -> tuple[list[str], list[str]]:
        """semgrep's JSON errors (read by the gate's semgrep reader): the run is incomplete when there are any."""
        from scanners.semgrep import SemgrepReader

        self._scanned = None
        path = self.json_file()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            result = SemgrepReader().read(doc, str(path))
        except FileNotFoundError:
            return [], ["semgrep wrote no JSON beside its SARIF report: its error list could not be checked"]
        except (OSError, ValueError, InputError) as exc:
            return [f"semgrep's JSON output could not be read: {exc}"], []
        self._scanned = semgrep_scanned(doc)
        return list(result.errors), [f"{len(self._scanned)} file(s) scanned"]

    _scanned: set[str] | None = None

    def covered(self, data: bytes) -> set[str]:
        """The files semgrep's JSON (written beside the SARIF report) lists in `paths.scanned`."""
        scanned, self._scanned = self._scanned, None
        return scanned or set()
