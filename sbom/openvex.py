"""Reader for OpenVEX documents (JSON-LD, context https://openvex.dev/ns/v0.2.0 or the earlier
https://openvex.dev/ns).

An OpenVEX document holds VEX statements only: no findings, no components. Each statement
becomes one `VexStatement`:

- `vulnerability`: the vulnerability's `name` (v0.2.0 object), else its `@id`, or the string
  itself (earlier documents); `aliases` from the vulnerability's `aliases`.
- `state`, mapped onto the CycloneDX analysis states the gate uses: not_affected ->
  not_affected, affected -> exploitable, fixed -> resolved, under_investigation -> in_triage.
- `products`: each product's `@id` and `identifiers.purl`, and those of its `subcomponents`
  (a finding is about the subcomponent's package, so the statement must name it to match);
  earlier documents list product strings, and `subcomponents` beside the products.
- `justification` as given; `detail` is the `impact_statement`, else the `action_statement`.
- `source` is the file.

Statements are returned in time order (statement `timestamp`, else the document's), stable for
equal times: OpenVEX statements override earlier ones, so a later statement in the tuple wins.

Refused, naming the JSON path: an unknown OpenVEX context version, a missing or unparsable
timestamp, a statement without vulnerability, status or product, an unknown status, and a
`not_affected` statement with neither justification nor impact statement (the spec requires
one, and such a statement would silence a finding without a reason).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone
from typing import Any, ClassVar

from gate.errors import InputError
from gate.model import ReadResult, VexStatement
from gate.model import ShapeError as _Shape
from gate.model import opt_list as _list
from gate.model import opt_str as _opt_str
from gate.model import type_name as _type_name
from sbom.interface import SbomReader

_FRACTION = re.compile(r"(\.\d{6})\d+")

CONTEXT_PREFIX = "https://openvex.dev/ns"
SUPPORTED_CONTEXTS = ("https://openvex.dev/ns/v0.2.0", "https://openvex.dev/ns")

STATUS_TO_STATE = {
    "not_affected": "not_affected",
    "affected": "exploitable",
    "fixed": "resolved",
    "under_investigation": "in_triage",
}


def _context(doc: dict[str, Any]) -> str | None:
    context = doc.get("@context")
    contexts = context if isinstance(context, list) else [context]
    for c in contexts:
        if isinstance(c, str) and c.startswith(CONTEXT_PREFIX):
            return c
    return None


def _timestamp(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise _Shape(path, "is missing" if value is None else f"must be an RFC 3339 time, not {_type_name(value)}")
    try:
        # Python before 3.11 reads neither "Z" nor more than 6 fractional digits (Go writes 9).
        text = _FRACTION.sub(r"\1", value.strip())
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" and text else text)
    except ValueError:
        raise _Shape(path, f"{value[:60]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise _Shape(path, f"{value[:60]!r} has no time zone")
    return parsed.astimezone(timezone.utc)


def _component_ids(item: Any, path: str) -> list[str]:
    """The identifiers of one product or subcomponent: a string, or `@id` and `identifiers.purl`."""
    if isinstance(item, str):
        return [item] if item else []
    if not isinstance(item, dict):
        raise _Shape(path, f"must be an object or a string, not {_type_name(item)}")
    ids = []
    main = _opt_str(item, "@id", path)
    if main:
        ids.append(main)
    identifiers = item.get("identifiers")
    if identifiers is not None:
        if not isinstance(identifiers, dict):
            raise _Shape(f"{path}.identifiers", f"must be an object, not {_type_name(identifiers)}")
        purl = _opt_str(identifiers, "purl", f"{path}.identifiers")
        if purl:
            ids.append(purl)
    return ids


class OpenVexReader(SbomReader):
    """Reads an OpenVEX document into VEX statements."""

    format: ClassVar[str] = "openvex"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A JSON object whose `@context` is an openvex.dev namespace."""
        return isinstance(doc, dict) and _context(doc) is not None

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every statement as a `VexStatement`, in time order."""
        if not isinstance(doc, dict):
            raise InputError(f"not an OpenVEX document: it is {_type_name(doc)}, not an object", file=source)
        context = _context(doc)
        if context not in SUPPORTED_CONTEXTS:
            shown = repr(context) if context else "none"
            raise InputError(
                f"OpenVEX context {shown[:80]} is not supported",
                file=source,
                hint=f"supported: {', '.join(SUPPORTED_CONTEXTS)}",
            )
        try:
            statements = self._statements(doc, source)
        except _Shape as exc:
            raise InputError(f"not a valid OpenVEX document: {exc}", file=source) from None
        tooling = doc.get("tooling")
        return ReadResult(
            format="openvex",
            tool=tooling.strip() if isinstance(tooling, str) and tooling.strip() else "openvex",
            tool_version=None,
            vex=statements,
            spec_version=context.rsplit("/", 1)[-1].removeprefix("v") if context != CONTEXT_PREFIX else None,
        )

    def _statements(self, doc: dict[str, Any], source: str) -> tuple[VexStatement, ...]:
        document_time = _timestamp(doc.get("timestamp"), "timestamp")
        if "statements" not in doc:
            raise _Shape("statements", "is missing")
        dated: list[tuple[datetime, int, VexStatement]] = []
        for i, st in enumerate(_list(doc, "statements", "")):
            path = f"statements[{i}]"
            if not isinstance(st, dict):
                raise _Shape(path, f"must be an object, not {_type_name(st)}")
            when = _timestamp(st["timestamp"], f"{path}.timestamp") if st.get("timestamp") is not None else document_time
            statement = dataclasses.replace(self._statement(st, path, source), timestamp=when.isoformat())
            dated.append((when, i, statement))
        dated.sort(key=lambda t: (t[0], t[1]))
        return tuple(s for _, _, s in dated)

    @staticmethod
    def _statement(st: dict[str, Any], path: str, source: str) -> VexStatement:
        vuln = st.get("vulnerability")
        aliases: list[str] = []
        if isinstance(vuln, str):
            name = vuln
        elif isinstance(vuln, dict):
            name = _opt_str(vuln, "name", f"{path}.vulnerability") or _opt_str(vuln, "@id", f"{path}.vulnerability") or ""
            for j, alias in enumerate(_list(vuln, "aliases", f"{path}.vulnerability")):
                if not isinstance(alias, str):
                    raise _Shape(f"{path}.vulnerability.aliases[{j}]", f"must be a string, not {_type_name(alias)}")
                aliases.append(alias)
        elif vuln is None:
            raise _Shape(f"{path}.vulnerability", "is missing")
        else:
            raise _Shape(f"{path}.vulnerability", f"must be an object, not {_type_name(vuln)}")
        if not name:
            raise _Shape(f"{path}.vulnerability", "names no vulnerability (no name or @id)")

        status = st.get("status")
        if status is None:
            raise _Shape(f"{path}.status", "is missing")
        if not isinstance(status, str) or status not in STATUS_TO_STATE:
            raise _Shape(f"{path}.status", f"{str(status)[:40]!r} is not an OpenVEX status ({', '.join(STATUS_TO_STATE)})")

        products: list[str] = []
        for j, product in enumerate(_list(st, "products", path)):
            where = f"{path}.products[{j}]"
            products.extend(_component_ids(product, where))
            if isinstance(product, dict):
                for k, sub in enumerate(_list(product, "subcomponents", where)):
                    products.extend(_component_ids(sub, f"{where}.subcomponents[{k}]"))
        for k, sub in enumerate(_list(st, "subcomponents", path)):  # earlier documents
            products.extend(_component_ids(sub, f"{path}.subcomponents[{k}]"))
        if not products:
            raise _Shape(f"{path}.products", "names no product (a statement applies to at least one)")

        justification = _opt_str(st, "justification", path)
        impact = _opt_str(st, "impact_statement", path)
        action = _opt_str(st, "action_statement", path)
        if status == "not_affected" and not justification and not impact:
            raise _Shape(path, "is not_affected without a justification or an impact_statement (OpenVEX requires one)")
        return VexStatement(
            vulnerability=name,
            state=STATUS_TO_STATE[status],
            products=tuple(dict.fromkeys(products)),
            aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
            justification=justification,
            detail=impact or action,
            source=source,
        )
