"""`json`: the verdict document itself; `input`: the policy input document (what Rego sees)."""

from __future__ import annotations

import re
from typing import Any

from gate.documents.json import encode
from gate.output.interface import Formatter
from gate.records import InputDocument, Verdict

# JSON already escapes C0 controls, so no string can break a line. What it leaves raw, and this
# escapes (JSON-equivalently, so the document reads back the same): the runner's legacy
# workflow command marker `##[`, which it honours anywhere in a line, DEL and C1 controls
# (terminal escape sequences), and the Unicode line and paragraph separators. `##[` can only
# occur inside a JSON string (nothing else in JSON has `#`), where `\u005b` is a valid escape.
_UNSAFE = re.compile(r"##\[|[\x7f-\x9f\u2028\u2029]")


def _safe(m: re.Match[str]) -> str:
    s = m.group(0)
    return "##\\u005b" if s == "##[" else f"\\u{ord(s):04x}"


def _encode(value: Any) -> bytes:
    """`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` and a newline, as UTF-8,
    through orjson where it can (`gate.documents.json.encode`, canonical)."""
    return encode(value, canonical=True)[0]


# The UTF-8 of what _UNSAFE matches, or of a prefix of it (0xC2 also leads U+00A0 to U+00BF:
# those only send the text through the regex, which leaves them alone). A byte search is a
# memchr; the regex walks the text character by character (0.2 s for 10 MB).
_UNSAFE_BYTES = (b"##[", b"\x7f", b"\xc2", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


def _needs_escaping(raw: bytes) -> bool:
    """Whether the encoded text holds a byte sequence `_safe` must escape (a workflow command, a
    control or line-separator character); the multi-byte ones only where the text is not ASCII."""
    return b"##[" in raw or b"\x7f" in raw or (not raw.isascii() and any(marker in raw for marker in _UNSAFE_BYTES))


def dump_bytes(value: Any) -> bytes:
    """`dump(value)` as UTF-8, without a text copy when nothing needs escaping (the file output's path)."""
    raw = _encode(value)
    if _needs_escaping(raw):
        return _UNSAFE.sub(_safe, raw.decode("utf-8", "surrogatepass")).encode("utf-8")
    if not raw.isascii():
        raw.decode("utf-8")  # a lone surrogate (only the standard encoder lets one through) fails here, as a text write would
    return raw


def dump(value: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8 kept, newline at the end; inert in a CI log."""
    raw = _encode(value)
    unsafe = _needs_escaping(raw)
    text = raw.decode("utf-8", "surrogatepass")
    del raw  # at 10^5 findings the text is 100 MB: one copy at a time
    return _UNSAFE.sub(_safe, text) if unsafe else text


class JsonFormatter(Formatter):
    """The verdict (`gate.verdict/v1`)."""

    name = "json"

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        return dump(verdict)

    def render_bytes(self, verdict: Verdict, document: InputDocument | None) -> bytes:
        return dump_bytes(verdict)


class InputFormatter(Formatter):
    """The input document (`gate.input/v1`), so a policy author sees exactly what Rego sees."""

    name = "input"

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        return dump(document if document is not None else {})

    def render_bytes(self, verdict: Verdict, document: InputDocument | None) -> bytes:
        return dump_bytes(document if document is not None else {})
