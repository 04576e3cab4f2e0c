"""`junit`: JUnit XML, a test case per policy rule; failures carry the evidence.

The shape CI tools read (Jenkins, GitLab, Azure Pipelines, the JUnit report actions), valid
against the Jenkins xUnit plugin's JUnit schema (`tests/schemas/jenkins-junit-10.xsd`: no
`skipped` on `<testsuites>`): `<testsuites>` with one `<testsuite name="policy-gate">` holding
`<properties>` (the decision, the exit code and the verdict's totals) and one `<testcase
classname name>` per rule of the policy set. Jenkins splits a class name at its last dot into
package and class, so the class name is `policy-gate.<rule id>` (dots in an id become `_`):
package `policy-gate`, one class per rule; never a control's text, whose dots (`PW.7.2`) would
scatter the rules over made-up packages. A rule that denied has a `<failure message type>` whose text lists its evidence,
one line per result; a rule that only warned passes, its warnings in `<system-out>`; waived
findings are one skipped test case; an error verdict is one test case with an `<error>`. The
counts (`tests`, `failures`, `errors`, `skipped`) are test cases, as JUnit counts them; each
failure's message says how many violations of its rule there were, and they add up to the
verdict's total. A failure lists at most `MAX_LINES` results and says how many it left out.

Text is escaped by the XML serialiser (ElementTree); characters XML 1.0 cannot carry are
replaced, and each piece of input text is made one inert line first, so the report, if it is
printed to a CI log, carries no workflow command either.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to write XML, never to parse it
from collections.abc import Mapping, Sequence

from gate.output.common import Result, error_text, error_where, iter_rules, not_used, report_only_note, results, summarize, waived_by
from gate.output.interface import Formatter
from gate.output.text import clean
from gate.records import InputDocument, Verdict

MAX_LINES = 500
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: object) -> str:
    """Text XML 1.0 can hold: invalid characters become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", "" if text is None else str(text))


def line(text: object, limit: int | None = None) -> str:
    """Input text as one inert line that XML can hold."""
    return xml_text(clean(text, limit))


def _describe(r: Result) -> str:
    parts = [p for p in (r.where(), r.package if r.package and r.package != r.where() else None, r.msg) if p]
    return " | ".join(clean(p, 1000) for p in parts)


def _lines(items: Sequence[Result], what: str) -> str:
    shown = [_describe(r) for r in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(f"... and {len(items) - MAX_LINES} more {what} (see the verdict JSON)")
    return xml_text("\n".join(shown))


def class_name(rule_id: str) -> str:
    """`policy-gate.<rule>`: Jenkins groups it as package `policy-gate`, class `<rule>` (no other dot)."""
    return "policy-gate." + line(rule_id, 200).replace(".", "_")


def _timestamp(time: object) -> str | None:
    """JUnit's `timestamp` is an ISO 8601 date-time without a zone (the gate's times are UTC)."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(?:Z|[+-]00:00)", str(time or ""))
    return m.group(1) if m else None


class JunitFormatter(Formatter):
    """One testsuite `policy-gate`, one testcase per rule."""

    name = "junit"

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        suite = ET.Element("testsuite", {"name": "policy-gate"})
        ctx = verdict.get("context")
        stamp = _timestamp(ctx.get("time") if ctx else None)
        if stamp:
            suite.set("timestamp", stamp)
        all_results = results(verdict)
        sm = summarize(verdict, document, all_results)
        by_rule: dict[str, list[Result]] = {}
        for r in all_results:
            if r.level != "waived":
                by_rule.setdefault(r.rule, []).append(r)
        rules = dict(iter_rules(verdict))
        failures = errors = skipped = 0
        if verdict["decision"] == "error":
            err = verdict.get("error")
            case = ET.SubElement(suite, "testcase", {"classname": "policy-gate.evaluation", "name": "evaluation", "time": "0"})
            where = error_where(err)
            kind = err.get("kind", "error") if err else "error"
            e = ET.SubElement(case, "error", {"message": line(error_text(err), 1000), "type": line(kind, 40)})
            e.text = line((where + ": " if where else "") + error_text(err))
            errors = 1
        else:
            for rid in sorted({*rules, *by_rule}):
                meta: Mapping[str, object] = rules.get(rid) or {}
                name = f"{rid} {meta.get('title', '')}".strip()
                case = ET.SubElement(
                    suite,
                    "testcase",
                    {"classname": class_name(rid), "name": line(name, 300), "time": "0"},
                )
                items = by_rule.get(rid, [])
                denies = [r for r in items if r.level == "deny"]
                warns = [r for r in items if r.level == "warn"]
                if denies:
                    failures += 1
                    n = len(denies)
                    fail = ET.SubElement(
                        case, "failure", {"message": line(f"{n} violation(s) of {rid}"), "type": line(meta.get("severity") or "deny", 40)}
                    )
                    text = _lines(denies, "result(s)")
                    if denies[0].remediation:
                        text += "\n" + line(f"Remediation: {denies[0].remediation}", 2000)
                    if meta.get("control"):
                        text += "\n" + line(f"Control: {meta['control']}", 500)
                    fail.text = text
                if warns:
                    n = len(warns)
                    out = ET.SubElement(case, "system-out")
                    out.text = xml_text(f"{n} warning(s) of {line(rid)}:\n") + _lines(warns, "result(s)")
        waived = [r for r in all_results if r.level == "waived"]
        if waived:
            case = ET.SubElement(suite, "testcase", {"classname": "policy-gate.waivers", "name": "waived findings", "time": "0"})
            ET.SubElement(case, "skipped", {"message": f"{len(waived)} finding(s) waived"})
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(line(f"{waived_by(r.waiver)}: ", 200) + _describe(r) for r in waived[:MAX_LINES])
            if len(waived) > MAX_LINES:
                out.text += f"\n... and {len(waived) - MAX_LINES} more waived finding(s) (see the verdict JSON)"
            skipped = 1
        cases = len(suite.findall("testcase"))
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        suite.set("time", "0")
        props = ET.Element("properties")
        counts: list[tuple[str, object]] = [
            ("decision", verdict["decision"]),
            ("exit_code", verdict["exit_code"]),
            ("components", sm.components),
            ("findings", sm.findings),
            ("suppressed", sm.suppressed),
            ("violations", sm.violations),
            ("waived", sm.waived),
            ("warnings", sm.warnings),
            ("results", sm.results),
        ]
        if sm.would_exit is not None:
            counts.append(("report_only_would_exit_code", sm.would_exit))
        for k, v in counts:
            ET.SubElement(props, "property", {"name": str(k), "value": xml_text(v)})
        changed = not_used(verdict)
        if changed:  # under --policy-ref: what the work tree changed in governing files, not used
            ET.SubElement(props, "property", {"name": "not_used", "value": str(len(changed))})
            for i, entry in enumerate(changed):
                reason = f": {entry.get('reason')}" if entry.get("reason") else ""
                text = f"{entry.get('change')}: {entry.get('path')} ({entry.get('kind')}){reason}"
                ET.SubElement(props, "property", {"name": f"not_used.{i}", "value": line(text, 600)})
        suite.insert(0, props)
        note = report_only_note(verdict)
        if note:
            ET.SubElement(suite, "system-out").text = note
        # The Jenkins schema allows no `skipped` on <testsuites>: the suite carries it.
        root = ET.Element(
            "testsuites",
            {"name": "policy-gate", "tests": str(cases), "failures": str(failures), "errors": str(errors), "time": "0"},
        )
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
