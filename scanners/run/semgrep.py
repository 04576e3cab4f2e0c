"""Run semgrep with the gate's own rule pack (`scanners/rules`) and any configs the user adds.

    semgrep scan --metrics off --disable-version-check --config <pack> [--config p/...]
                 --no-rewrite-rule-ids --sarif-output OUT/semgrep.sarif --json-output WORK/semgrep.json
                 --x-semgrepignore-filename .policy-gate-semgrepignore --quiet .

with SEMGREP_ENABLE_VERSION_CHECK=0 in its environment, in the project directory.

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
- The project's own `.semgrepignore` is not obeyed (a pull request could hide files with it):
  semgrep is told to read ignore files of another name, so only its default ignores apply
  (tests, `node_modules`, ...). This uses semgrep's internal `--x-semgrepignore-filename`; a
  semgrep that lacks it fails loudly (an incomplete scan), never silently.
- Exit code 0 means semgrep ran, with or without findings (the gate does not pass `--error`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import ClassVar

from gate.errors import InputError
from scanners.run.interface import Execution, Prepared, ScannerRunner, find_named, program_version, relative_inside

IGNORE_FILE_NAME = ".policy-gate-semgrepignore"
"""The ignore-file name semgrep is told to read instead of `.semgrepignore`."""

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

    def __init__(self, extra_configs: Sequence[str] = (), *, rules: Path | None = None) -> None:
        self.rules = rules or rules_dir()
        self.extra_configs = tuple(resolve_config(c) for c in extra_configs)

    def env(self) -> dict[str, str]:
        """No version check, no metrics, whatever the user's environment says."""
        env = super().env()
        env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
        env["SEMGREP_SEND_METRICS"] = "off"
        return env

    def json_file(self) -> Path:
        """Where the same run writes semgrep's JSON (read for its errors, not evaluated)."""
        return self.work_dir / "semgrep.json"

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Note the project's `.semgrepignore` files, which this run does not obey."""
        found = find_named(target, [".semgrepignore", IGNORE_FILE_NAME])
        notes = []
        ignored = [f for f in found if f.endswith(".semgrepignore") and not f.endswith(IGNORE_FILE_NAME)]
        if ignored:
            notes.append(f"project .semgrepignore not obeyed: {', '.join(ignored)}")
        obeyed = [f for f in found if f.endswith(IGNORE_FILE_NAME)]
        if obeyed:
            notes.append(f"ignore files semgrep obeys ({IGNORE_FILE_NAME}) found in the project: {', '.join(obeyed)}")
        if not self.rules.is_dir():
            notes.append(f"the gate's rule pack is missing at {self.rules}")
        return Prepared(notes=notes)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The semgrep command line (run with `target` as the working directory)."""
        argv = [self.executable() or self.program, "scan", "--metrics", "off", "--disable-version-check", "--config", str(self.rules)]
        for config in self.extra_configs:
            argv += ["--config", config]
        argv += [
            "--no-rewrite-rule-ids",
            "--sarif-output",
            str(self.report_file(out_dir).resolve()),
            "--json-output",
            str(self.json_file()),
            f"--x-semgrepignore-filename={IGNORE_FILE_NAME}",
            "--quiet",
        ]
        inside = relative_inside(out_dir, target)
        if inside:
            argv += ["--exclude", f"/{inside}"]
        argv.append(".")
        return argv

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

        path = self.json_file()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            result = SemgrepReader().read(doc, str(path))
        except FileNotFoundError:
            return [], ["semgrep wrote no JSON beside its SARIF report: its error list could not be checked"]
        except (OSError, ValueError, InputError) as exc:
            return [f"semgrep's JSON output could not be read: {exc}"], []
        scanned = doc.get("paths", {}).get("scanned") if isinstance(doc.get("paths"), dict) else None
        notes = [f"{len(scanned)} file(s) scanned"] if isinstance(scanned, list) else []
        return list(result.errors), notes
