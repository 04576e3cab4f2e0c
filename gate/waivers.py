"""The waivers file: accepted risks, each on the record with a reason, an approver and an expiry.

Validated here, in Python, before any policy sees it; a bad entry is a configuration error
(exit 2) that names the file and the line of the offending key:

- the shape (gate/schemas/waivers.schema.json): required `id`, `reason`, `approved_by`,
  `expires`; unknown or misspelt keys refused; duplicate keys refused by the YAML loader;
- what a schema cannot say: unique ids; a real date or an RFC 3339 time with a zone; an expiry
  no further ahead than `now + horizon_days` (so year 9999 is refused); a scope that names at
  least one concrete field (`finding`, or `rule`, `path`, `package`, `vulnerability`); a path
  glob that names something (`gate.paths.scope_problem`: not `**`, `*/**`, `**/*.py`, no leading
  `/`, `..` or backslash).

Time: `expires: 2026-12-31` applies through 23:59:59 UTC of that day; `expires:
2026-12-31T12:00:00+02:00` applies until that instant (exclusive). Every judgement uses the
`now` the runner passes (`--time`), in UTC: the TZ of the machine plays no part.

Applying: a waiver covers a finding when every field it gives matches (exact fingerprint; rule
id and vulnerability ids without regard to case; path by glob anchored at the project root, so
`src/legacy/**` does not cover `tools/src/legacy/api.py` (`**/` matches at any depth); package by purl, with or without
its version, or by name). Expired waivers stop applying and are listed; waivers that matched
nothing are listed as unused; waivers expiring within `warn_before_days` are listed as
expiring, and carry `expiring: true` in `input.waivers` so a policy can warn about them.
Covered findings stay in the input document with `waiver` set: every output shows them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, Position
from gate.paths import glob_match, scope_problem
from gate.records import FindingRecord, WaivedRecord, WaiverEntry, WaiverMark

WHAT = "waivers file"
SCOPE_FIELDS = ("finding", "rule", "path", "package", "vulnerability")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Waiver:
    """One validated entry of the waivers file."""

    id: str
    reason: str
    approved_by: str
    expires: str
    ends: dt.datetime
    """The first instant (UTC) at which the waiver no longer applies."""
    line: int | None
    ticket: str | None = None
    finding: str | None = None
    rule: str | None = None
    path: str | None = None
    package: str | None = None
    vulnerability: str | None = None
    expired: bool = False
    expiring: bool = False

    def scope(self) -> dict[str, str]:
        """The fields that select findings (only those given)."""
        return {k: v for k in SCOPE_FIELDS if (v := getattr(self, k)) is not None}

    def covers(self, finding: Mapping[str, Any]) -> bool:
        """True when every field of the scope matches the finding (an input-document record)."""
        if self.finding is not None and finding.get("id") != self.finding:
            return False
        if self.rule is not None and str(finding.get("rule_id") or "").casefold() != self.rule.casefold():
            return False
        if self.path is not None:
            loc = finding.get("location") or {}
            path = loc.get("path")
            if not path or not glob_match(self.path, str(path)):
                return False
        if self.package is not None and not _package_matches(self.package, finding.get("package")):
            return False
        if self.vulnerability is not None:
            ids = {str(finding.get("rule_id") or ""), *(finding.get("cve") or ()), *(finding.get("aliases") or ())}
            if self.vulnerability.casefold() not in {str(i).casefold() for i in ids}:
                return False
        return True

    def record(self) -> WaiverMark:
        """What a finding's `waiver` field says about the waiver covering it."""
        return {
            "id": self.id,
            "reason": self.reason,
            "approved_by": self.approved_by,
            "expires": self.expires,
            "ticket": self.ticket,
        }

    def entry(self) -> WaiverEntry:
        """The JSON-safe entry for `input.waivers` and the verdict's waiver lists."""
        return {
            "id": self.id,
            **self.scope(),  # type: ignore[typeddict-item]  # only WaiverEntry's scope keys
            "reason": self.reason,
            "approved_by": self.approved_by,
            "expires": self.expires,
            "ends": _rfc3339(self.ends),
            "ticket": self.ticket,
            "expired": self.expired,
            "expiring": self.expiring,
        }


@dataclass
class Applied:
    """What applying the waivers to one run's findings gave."""

    waived: list[WaivedRecord] = field(default_factory=list)
    expired: list[WaiverEntry] = field(default_factory=list)
    unused: list[WaiverEntry] = field(default_factory=list)
    expiring: list[WaiverEntry] = field(default_factory=list)


def waived_record(f: FindingRecord, mark: WaiverMark) -> WaivedRecord:
    """`waived[]`: finding `f`, covered by the waiver `mark` describes (`Waiver.record()`)."""
    loc = f.get("location")
    return {
        "finding": f["id"],
        "waiver": mark["id"],
        "reason": mark["reason"],
        "approved_by": mark["approved_by"],
        "expires": mark["expires"],
        "ticket": mark["ticket"],
        "rule_id": f.get("rule_id"),
        "tool": f.get("tool"),
        "path": loc.get("path") if loc else None,
    }


class WaiverSet:
    """The validated waivers of one file, judged at one `now`."""

    def __init__(self, waivers: Sequence[Waiver], *, path: str, now: dt.datetime, warn_before_days: int) -> None:
        self.waivers = tuple(waivers)
        self.path = path
        self.now = now
        self.warn_before_days = warn_before_days

    @classmethod
    def load(
        cls,
        path: str,
        *,
        now: dt.datetime,
        horizon_days: int,
        warn_before_days: int,
        shown: str | None = None,
        content: bytes | None = None,
    ) -> WaiverSet:
        """Read and validate a waivers file. Raises ConfigError (exit 2) naming file and line.

        `shown` is the name errors and the verdict use for the file (a git ref's `REF:path`
        when the file was read from one); it defaults to `path`. `content`: the file's bytes,
        already read by gate.sources (then `path` is not opened).
        """
        doc = _load(path, shown or path, content)
        return cls.from_document(
            doc.value, doc.position, shown=shown or path, now=now, horizon_days=horizon_days, warn_before_days=warn_before_days
        )

    @classmethod
    def from_document(
        cls,
        value: Any,
        position: Any,
        *,
        shown: str,
        now: dt.datetime,
        horizon_days: int,
        warn_before_days: int,
    ) -> WaiverSet:
        """Validate a parsed document; `position(json_path)` gives a node's line and column."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        now = now.astimezone(dt.timezone.utc)
        if horizon_days < 0 or warn_before_days < 0:
            raise ConfigError(
                f"data waivers.horizon_days ({horizon_days}) and waivers.warn_before_days ({warn_before_days}) must not be negative"
            )
        _check_schema(value, position, shown)
        horizon = _add_days(now, horizon_days)
        warn_until = _add_days(now, warn_before_days)
        waivers: list[Waiver] = []
        seen: dict[str, int | None] = {}
        for i, raw in enumerate(value["waivers"]):
            where = ["waivers", i]

            def fail(message: str, key: str, hint: str | None = None, _where: list[Any] = where, _raw: Any = raw) -> ConfigError:
                label = f"waiver {_where[1] + 1} ({_raw.get('id')})"
                return ConfigError(f"{label}: {message}", file=shown, position=position([*_where, key]), hint=hint)

            wid = str(raw["id"])
            line = _line(position(where))
            if wid in seen:
                first = seen[wid]
                raise fail(f"duplicate id (first used on line {first})" if first else "duplicate id", "id", "give every waiver its own id")
            seen[wid] = line
            expires = str(raw["expires"])
            try:
                ends, last_day = _expiry(expires)
            except ValueError as exc:
                raise fail(
                    f"expires {expires!r} is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone: {exc}",
                    "expires",
                ) from None
            beyond = last_day > horizon.date() if _DATE.match(expires) else ends > horizon
            if beyond:
                raise fail(
                    f"expires {expires!r} lies beyond the horizon of {horizon_days} days (latest allowed: {_rfc3339(horizon)})",
                    "expires",
                    "choose an earlier expiry and renew the waiver when it comes due",
                )
            path = raw.get("path")
            if path is not None:
                problem = scope_problem(str(path))
                if problem is not None:
                    raise fail(f"path {path!r} {problem[0]}: a scope must name something concrete", "path", problem[1])
            expired = now >= ends
            waivers.append(
                Waiver(
                    id=wid,
                    reason=str(raw["reason"]),
                    approved_by=str(raw["approved_by"]),
                    expires=expires,
                    ends=ends,
                    line=line,
                    ticket=_opt(raw.get("ticket")),
                    finding=_opt(raw.get("finding")),
                    rule=_opt(raw.get("rule")),
                    path=str(path) if path is not None else None,
                    package=_opt(raw.get("package")),
                    vulnerability=_opt(raw.get("vulnerability")),
                    expired=expired,
                    expiring=not expired and ends <= warn_until,
                )
            )
        return cls(waivers, path=shown, now=now, warn_before_days=warn_before_days)

    @classmethod
    def empty(cls, *, path: str, now: dt.datetime, warn_before_days: int = 14) -> WaiverSet:
        """No waivers at all (e.g. a waivers file the trusted ref does not have)."""
        return cls((), path=path, now=now, warn_before_days=warn_before_days)

    def entries(self) -> list[WaiverEntry]:
        """The validated entries for `input.waivers` (file order, JSON-safe, with flags)."""
        return [w.entry() for w in self.waivers]

    def apply(self, findings: list[FindingRecord], now_rfc3339: str | None = None) -> Applied:
        """Mark the findings the waivers cover (`finding["waiver"]`) and report on the waivers.

        The first waiver in file order that covers a finding is the one recorded on it; every
        waiver that covers some finding counts as used. Expiry was judged at the `now` the set
        was loaded with (the run's `--time`); `now_rfc3339` is accepted for the record only.
        """
        del now_rfc3339
        out = Applied()
        live = [w for w in self.waivers if not w.expired]
        dead = [w for w in self.waivers if w.expired]
        used: dict[str, list[str]] = {w.id: [] for w in self.waivers}
        for f in findings:
            for w in dead:
                if w.covers(f):
                    used[w.id].append(str(f["id"]))
            chosen: Waiver | None = None
            for w in live:
                if w.covers(f):
                    used[w.id].append(str(f["id"]))
                    if chosen is None:
                        chosen = w
            if chosen is None:
                continue
            mark = chosen.record()
            f["waiver"] = mark
            out.waived.append(waived_record(f, mark))
        for w in self.waivers:
            e = w.entry()
            e["file"] = self.path
            e["line"] = w.line
            if w.expired:
                # Listed with what it would still cover: those findings now count again.
                out.expired.append({**e, "findings": sorted(set(used[w.id]))})
            elif not used[w.id]:
                out.unused.append(e)
            if w.expiring:
                days = (w.ends - self.now).total_seconds() / 86400
                out.expiring.append({**e, "days_left": int(days), "findings": sorted(set(used[w.id]))})
        out.waived.sort(key=lambda r: (str(r["finding"]), str(r["waiver"])))
        return out


# ------------------------------------------------------------------------------------------
# Reading


def _load(path: str, shown: str, content: bytes | None = None) -> Any:
    """Load the file with positions (`gate.documents.yaml`), keeping YAML timestamps as their text:
    the expiry is judged from exactly what was written (`2026-13-01` with its line, a zone-less
    time refused rather than taken as UTC)."""
    from gate.documents import yaml as yamldoc

    try:
        text = Path(path).read_text(encoding="utf-8-sig") if content is None else _text(content)
    except FileNotFoundError:
        raise ConfigError(f"{WHAT} not found", file=shown) from None
    except IsADirectoryError:
        raise ConfigError(f"{WHAT} is a directory", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {WHAT}: {exc}", file=shown) from None
    return yamldoc.loads(text, shown, what=f"the {WHAT}", timestamps_as_text=True)


def _text(content: bytes) -> str:
    """Bytes as `read_text(encoding="utf-8-sig")` reads them (universal newlines)."""
    return content.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def _check_schema(value: Any, position: Any, shown: str) -> None:
    """Validate against waivers.schema.json; the message and line of the first error say what to fix."""
    from gate.documents import schema as docschema

    if value is None:
        raise ConfigError(f"the {WHAT} is empty", file=shown, position=Position(1, 1), hint="write `waivers: []` for no waivers")
    if docschema.is_valid(value, "waivers"):
        return
    errors = sorted(docschema.problems(value, "waivers"), key=lambda e: (_path_key(e.path), _PRIORITY.get(e.keyword, 9), e.message))
    if not errors:
        return
    known_keys = sorted(docschema.load_schema("waivers")["$defs"]["waiver"]["properties"])
    err = errors[0]
    where = list(err.path)
    known = known_keys if len(where) == 2 else ["waivers"]
    instance = err.instance
    if err.keyword == "additionalProperties" and err.unexpected:
        extra = sorted(err.unexpected)[0]
        near = difflib.get_close_matches(extra, known, n=1)
        # The suggestion is part of the message: it is the fix, and every output shows the message.
        hint = f"did you mean {near[0]!r}?" if near else f"known keys: {', '.join(known)}"
        raise ConfigError(f"{_at(where, value)}: unknown key {extra!r} ({hint})", file=shown, position=position([*where, extra]))
    if err.keyword == "required" and err.missing is not None:
        missing = [err.missing]
        need = "a waiver needs id, reason, approved_by and expires (a date within the horizon)"
        raise ConfigError(
            f"{_at(where, value)}: required key {missing[0]!r} is missing",
            file=shown,
            position=position(where),
            hint=need if len(where) == 2 else None,
        )
    if err.keyword == "anyOf" and len(where) == 2:
        raise ConfigError(
            f"{_at(where, value)}: names no finding and no scope",
            file=shown,
            position=position(where),
            hint="give `finding` (a fingerprint) or at least one of rule, path, package, vulnerability",
        )
    if err.keyword == "pattern" and where and where[-1] in ("id", "rule", "vulnerability"):
        raise ConfigError(
            f"{_at(where, value)}: {where[-1]} {instance!r} must be an exact value (not blank, no spaces, no wildcard * ? [ ] {{ }})",
            file=shown,
            position=position(where),
        )
    if err.keyword == "pattern" and where and where[-1] == "expires":
        raise ConfigError(
            f"{_at(where, value)}: expires {instance!r} is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone (2026-06-30T12:00:00Z)",
            file=shown,
            position=position(where),
        )
    if err.keyword == "pattern" and where and where[-1] == "finding":
        raise ConfigError(
            f"{_at(where, value)}: finding {instance!r} is not a finding id (the hex fingerprint shown in the verdict)",
            file=shown,
            position=position(where),
        )
    if err.keyword in ("minLength", "pattern") and isinstance(instance, str) and not instance.strip():
        raise ConfigError(f"{_at(where, value)}: must not be empty", file=shown, position=position(where))
    if err.keyword == "type" and where and where[-1] == "expires":
        raise ConfigError(
            f"{_at(where, value)}: expires must be a date (YYYY-MM-DD) or an RFC 3339 time, not {instance!r}",
            file=shown,
            position=position(where),
        )
    raise ConfigError(f"{_at(where, value)}: {err.message}", file=shown, position=position(where))


# A misspelt key also makes a required key "missing": name the misspelling first, at its line.
_PRIORITY = {"additionalProperties": 0, "required": 1, "type": 2, "anyOf": 3}


def _path_key(path: Any) -> list[tuple[int, str]]:
    return [(0, f"{p:08d}") if isinstance(p, int) else (1, str(p)) for p in path]


def _at(where: Sequence[Any], value: Any) -> str:
    """`waiver 2 (W-2026-014), key expires` for an error at waivers/1/expires."""
    if len(where) < 2 or where[0] != "waivers" or not isinstance(where[1], int):
        return "invalid waivers file" + (f" at {'/'.join(str(p) for p in where)}" if where else "")
    entry = value["waivers"][where[1]]
    wid = entry.get("id") if isinstance(entry, dict) else None
    text = f"waiver {where[1] + 1}" + (f" ({wid})" if isinstance(wid, str) and wid else "")
    if len(where) > 2:
        text += ", key " + "/".join(str(p) for p in where[2:])
    return text


def _line(pos: Position | None) -> int | None:
    return pos.line if pos is not None else None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------------------------------
# Time


def _expiry(text: str) -> tuple[dt.datetime, dt.date]:
    """(first instant at which the waiver no longer applies, the last UTC day it applies)."""
    if _DATE.match(text):
        day = dt.date.fromisoformat(text)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        return _add_days(start, 1), day
    m = _TIME.match(text)
    if not m:
        raise ValueError("unrecognised form")
    date, clock, zone = m.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    if "." in clock:  # Python 3.10's fromisoformat takes 3 or 6 fraction digits only
        whole, fraction = clock.split(".")
        clock = f"{whole}.{(fraction + '000000')[:6]}"
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"zone offset {zone} out of range")
    value = dt.datetime.fromisoformat(f"{date}T{clock}{zone}").astimezone(dt.timezone.utc)
    return value, value.date()


def _add_days(value: dt.datetime, days: int) -> dt.datetime:
    """value + days, clamped at the end of representable time (year 9999) instead of overflowing."""
    try:
        return value + dt.timedelta(days=days)
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------
# Packages


def _name_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).casefold()


def _package_matches(wanted: str, package: Mapping[str, Any] | None) -> bool:
    """A waiver's package (purl, with or without version, or a bare name) against a finding's."""
    if not package:
        return False
    if wanted.startswith("pkg:"):
        purl = package.get("purl")
        if not purl:
            return False
        return purl_matches(wanted, str(purl))
    name = package.get("name")
    return bool(name) and _name_key(str(name)) == _name_key(wanted)


def purl_matches(wanted: str, purl: str) -> bool:
    """A purl pattern (with or without version; qualifiers and subpath only if given) matches a purl.

    Both are compared in their canonical form (`gate.purl`: type case, per-type name rules, PEP
    503 pypi names, percent-encoding), so `pkg:pypi/PyCrypto` names `pkg:pypi/py%63rypto@2.6.1`.
    An unparsable purl compares as exact text.
    """
    from gate.purl import parts

    try:
        wt, wn, wname, wv, wq, ws = parts(wanted)
        pt, pn, pname, pv, pq, ps = parts(purl)
    except ValueError:
        return wanted == purl
    if (wt, wn, wname) != (pt, pn, pname):
        return False
    if wv is not None and wv != pv:
        return False
    if wq and any(pq.get(k) != v for k, v in wq.items()):
        return False
    return not (ws and ws != ps)
