"""Baseline files: the fingerprints of a reference run's findings (`gate baseline` writes them).

A run with `--baseline FILE` marks each finding `existing` (its fingerprint is in the file) or
`new`; without one every finding is `unknown`. The fingerprints (gate/fingerprint.py) survive
line shifts, unrelated edits, report reordering and tool re-runs, so "new" means new flaws, not
moved ones. The shipped policy can then block on new findings only and warn on existing ones
(data: `stages.<stage>.new_findings_only`).

The file is JSON (gate.baseline/v1, gate/schemas/baseline.schema.json), sorted by id so that
it diffs well and the same findings always give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, Position

BASELINE_SCHEMA = "gate.baseline/v1"
WHAT = "baseline file"


def build_baseline(findings: Iterable[Mapping[str, Any]], *, created: str, gate_version: str) -> dict[str, Any]:
    """The baseline document for these findings (input-document records): sorted, deterministic.

    Besides the fingerprint each entry names the tool, rule, path and package, for a person
    reading the file; only the fingerprint is compared.
    """
    entries: dict[str, dict[str, Any]] = {}
    for f in findings:
        pkg = f.get("package") or {}
        entries.setdefault(
            str(f["id"]),
            {
                "id": str(f["id"]),
                "tool": f.get("tool"),
                "rule_id": f.get("rule_id"),
                "path": (f.get("location") or {}).get("path"),
                "package": pkg.get("purl") or pkg.get("name"),
            },
        )
    return {
        "schema": BASELINE_SCHEMA,
        "created": created,
        "gate_version": gate_version,
        "findings": [entries[k] for k in sorted(entries)],
    }


def load_baseline(path: str) -> set[str]:
    """The fingerprints in a baseline file on disk. A missing, malformed or foreign file is a ConfigError (2)."""
    try:
        content = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{WHAT} not found", file=path, hint="write one with `gate baseline REPORT... -o FILE`") from None
    except IsADirectoryError:
        raise ConfigError(f"{WHAT} is a directory", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {WHAT}: {exc}", file=path) from None
    return parse_baseline(content, path)


def parse_baseline(content: bytes, shown: str) -> set[str]:
    """The fingerprints in a baseline file's bytes; errors name `shown` (a path, or `REF:path`).

    Baselines are large and written by the gate as JSON, so JSON is parsed directly (strictly:
    duplicate keys refused); the slower YAML loader with positions is used only to place an
    error on its line, and for a baseline someone wrote by hand in YAML.
    """
    path = shown
    try:
        text = content.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read the {WHAT}: {exc}", file=path) from None
    if not text.strip():
        raise ConfigError(f"the {WHAT} is empty", file=path, position=Position(1, 1))
    value: Any
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON in the {WHAT}: {exc.msg}", file=path, position=Position(exc.lineno, exc.colno)) from None
        except ValueError as exc:
            raise ConfigError(f"invalid JSON in the {WHAT}: {exc}", file=path) from None
        except RecursionError:  # nested past Python's limit: refused where it gets too deep
            from gate.documents import yaml as yamldoc

            yamldoc.loads(text, path, what=f"the {WHAT}")  # refuses the nesting, naming its line
            raise ConfigError(f"the {WHAT} is nested too deeply", file=path) from None
    else:
        from gate.documents import yaml as yamldoc

        value = yamldoc.loads(text, path, what=WHAT).value
    if not isinstance(value, dict) or value.get("schema") != BASELINE_SCHEMA:
        found = value.get("schema") if isinstance(value, dict) else None
        raise ConfigError(
            f"not a baseline file: `schema` must be {BASELINE_SCHEMA!r}" + (f", not {found!r}" if found else ""),
            file=path,
            position=Position(1, 1),
            hint="write one with `gate baseline REPORT... -o FILE`",
        )
    _validate(value, path, text)
    return {str(e["id"]) for e in value["findings"]}


def _validate(value: Any, path: str, text: str) -> None:
    from gate.documents import schema as docschema
    from gate.documents import yaml as yamldoc

    if docschema.is_valid(value, "baseline"):
        return
    found = docschema.problems(value, "baseline")
    if not found:
        return
    error = found[0]
    # Only now pay for the positions: re-read with the YAML loader (JSON is YAML).
    located = yamldoc.loads(text, path, what=WHAT)
    raise ConfigError(f"invalid {WHAT} at {error.where}: {error.message}", file=path, position=located.position(list(error.path)))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        keys = [k for k, _ in pairs]
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return d
