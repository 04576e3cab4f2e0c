"""YAML and JSON files written by people (data, waivers, baseline), read with positions.

Errors name the file, line and column: for syntax errors from the parser, for schema errors
from the position of the offending node. Duplicate keys are refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, Position


@dataclass
class Located:
    """A plain Python value and a way to find where any part of it stood in the file."""

    value: Any
    path: str
    _root: Any

    def position(self, json_path: Sequence[str | int]) -> Position | None:
        """The line and column (1-based) of the node at `json_path`, as near as is known."""
        node = self._root
        pos: Position | None = Position(line=1, column=1)
        for part in json_path:
            lc = getattr(node, "lc", None)
            try:
                if lc is not None:
                    if isinstance(part, int):
                        line, col = lc.item(part)
                    else:
                        line, col = lc.key(part)
                    pos = Position(line=line + 1, column=col + 1)
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        return pos


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        if node.tzinfo is None:
            return node.isoformat() + "Z"
        return node.isoformat()
    if isinstance(node, dt.date):
        return node.isoformat()
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def load(path: str | Path, *, what: str = "file") -> Located:
    """Load a YAML (or JSON, which is YAML) file with positions. Raises ConfigError (exit 2)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    p = str(path)
    try:
        text = Path(p).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", file=p) from None
    if p.endswith(".json"):
        try:
            json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON in {what}: {exc.msg}", file=p, position=Position(exc.lineno, exc.colno)) from None
        except ValueError as exc:
            raise ConfigError(f"invalid JSON in {what}: {exc}", file=p) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"duplicate key in {what}: {exc.problem}",
            file=p,
            position=Position(mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"invalid YAML in {what}: {exc.problem or exc.context}",
            file=p,
            position=Position(mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except Exception as exc:  # ruamel raises assorted non-Marked errors on hostile input
        raise ConfigError(f"invalid YAML in {what}: {exc}", file=p) from None
    return Located(value=_plain(root), path=p, _root=root)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        keys = [k for k, _ in pairs]
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r}")
    return d


def validate(doc: Located, schema_name: str, *, what: str) -> None:
    """Validate against a JSON Schema shipped in gate/schemas; the first error names its line."""
    import jsonschema

    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc.value), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(
            f"invalid {what} at {where}: {err.message}",
            file=doc.path,
            position=doc.position(list(err.absolute_path)),
        )


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with the gate (`gate/schemas/NAME.schema.json`)."""
    from importlib import resources

    text = resources.files("gate").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
