"""`junit`: JUnit XML, a test case per policy rule; failures carry the evidence.

Rules that denied fail; rules that only warned pass with their warnings in `system-out`; an
error verdict is one errored test case. Text is escaped by the XML serialiser (ElementTree),
and characters XML 1.0 cannot carry are replaced, so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to write XML, never to parse it
from collections.abc import Mapping
from typing import Any

from gate.output.common import Result, iter_rules, results, totals
from gate.output.interface import Formatter

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: object) -> str:
    """Text XML 1.0 can hold: invalid characters become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", "" if text is None else str(text))


def _describe(r: Result) -> str:
    where = r.path or ""
    if where and r.start_line:
        where += f":{r.start_line}"
    pkg = (r.finding or {}).get("package") or {}
    what = pkg.get("purl") or (f"{pkg.get('name')}@{pkg.get('version')}" if pkg.get("name") else "")
    parts = [p for p in (where, what, r.msg) if p]
    return " | ".join(parts)


class JunitFormatter(Formatter):
    """One testsuite `policy-gate`, one testcase per rule."""

    name = "junit"

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        t = totals(verdict)
        suite = ET.Element("testsuite", {"name": "policy-gate", "timestamp": str((verdict.get("context") or {}).get("time") or "")})
        by_rule: dict[str, list[Result]] = {}
        for r in results(verdict):
            if r.level != "waived":
                by_rule.setdefault(r.rule, []).append(r)
        rules = dict(iter_rules(verdict))
        failures = errors = 0
        if verdict["decision"] == "error":
            err = verdict.get("error") or {}
            case = ET.SubElement(suite, "testcase", {"classname": "policy-gate", "name": "evaluation"})
            e = ET.SubElement(case, "error", {"message": xml_text(err.get("message", ""))[:1000], "type": xml_text(err.get("kind", "error"))})
            e.text = xml_text(f"{err.get('file') or ''} {err.get('position') or ''}\n{err.get('message', '')}")
            errors = 1
        else:
            for rid in sorted({*rules, *by_rule}):
                meta = rules.get(rid, {})
                case = ET.SubElement(suite, "testcase", {"classname": f"policy-gate.{xml_text(meta.get('control') or 'policy')}", "name": xml_text(f"{rid} {meta.get('title', '')}".strip())})
                items = by_rule.get(rid, [])
                denies = [r for r in items if r.level == "deny"]
                warns = [r for r in items if r.level == "warn"]
                if denies:
                    failures += 1
                    n = len({id(r.entry) for r in denies})
                    fail = ET.SubElement(case, "failure", {"message": xml_text(f"{n} violation(s) of {rid}"), "type": xml_text(str(meta.get("severity") or "deny"))})
                    fail.text = xml_text("\n".join(_describe(r) for r in denies) + (f"\nRemediation: {denies[0].remediation}" if denies[0].remediation else ""))
                if warns:
                    out = ET.SubElement(case, "system-out")
                    out.text = xml_text("warnings:\n" + "\n".join(_describe(r) for r in warns))
        waived = [r for r in results(verdict) if r.level == "waived"]
        if waived:
            case = ET.SubElement(suite, "testcase", {"classname": "policy-gate.waivers", "name": "waived findings"})
            ET.SubElement(case, "skipped", {"message": xml_text(f"{len(waived)} finding(s) waived")})
            out = ET.SubElement(case, "system-out")
            out.text = xml_text("\n".join(f"{(r.waiver or {}).get('waiver')}: {_describe(r)}" for r in waived))
        cases = len(suite.findall("testcase"))
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "1" if waived else "0")
        props = ET.Element("properties")
        for k, v in (("decision", verdict["decision"]), ("exit_code", verdict["exit_code"]), *sorted(t.items())):
            ET.SubElement(props, "property", {"name": str(k), "value": xml_text(v)})
        suite.insert(0, props)
        root = ET.Element("testsuites", {"name": "policy-gate", "tests": str(cases), "failures": str(failures), "errors": str(errors)})
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
