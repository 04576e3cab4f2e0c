"""XML documents: one reading function, `parse_xml`, safe and bounded.

defusedxml with DTDs forbidden (so no entity, internal or external, and no external DTD: billion
laughs and XXE are refused before any expansion or fetch); nesting bounded. The bytes go to expat
as they are: it reads a BOM and the encoding declaration itself. Every refusal is an `InputError`
(exit 3) naming the file, line and column.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from gate.errors import InputError, Position


class _TooDeep(Exception):
    def __init__(self, position: Position | None = None) -> None:
        super().__init__("too deep")
        self.position = position


class _DepthBuilder(TreeBuilder):
    """An ElementTree builder that stops the parse at the first element deeper than the limit."""

    def __init__(self, max_depth: int) -> None:
        super().__init__()
        self.depth = 0
        self.max_depth = max_depth

    def start(self, tag: Any, attrs: Any) -> Element:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _TooDeep()
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self.depth -= 1
        return super().end(tag)


def parse_xml(data: bytes, path: str, max_depth: int) -> Any:
    """Parse XML with defusedxml: no DTD (so no entity and no external resource), bounded depth.

    The bytes go to expat as they are: it reads a BOM and the encoding declaration itself. The
    tree is built by ElementTree's builder; only a document found too deep is parsed again, by a
    builder that stops at the first element past the limit, to say where it is.
    """
    root = _expat(data, path, None)
    if _xml_depth_exceeds(root, max_depth):
        try:
            _expat(data, path, max_depth)
        except _TooDeep as exc:
            raise InputError(
                f"XML nested deeper than {max_depth} levels", file=path, position=exc.position, hint="raise it with --max-depth"
            ) from None
        raise InputError(f"XML nested deeper than {max_depth} levels", file=path, hint="raise it with --max-depth")
    return root


def _xml_depth_exceeds(root: Any, max_depth: int) -> bool:
    level, depth = [root], 1
    while level:
        if depth > max_depth:
            return True
        level = [child for el in level for child in el]
        depth += 1
    return False


def _expat(data: bytes, path: str, max_depth: int | None) -> Any:
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    # ElementTree's own builder, not defusedxml's default (the pure-Python one, whose elements
    # are not `xml.etree.ElementTree.Element` instances to the readers).
    target = _DepthBuilder(max_depth) if max_depth is not None else TreeBuilder()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def here() -> Position:
        expat = parser.parser
        return Position(line=expat.CurrentLineNumber, column=expat.CurrentColumnNumber + 1)

    try:
        parser.feed(data)
        return parser.close()
    except _TooDeep:
        raise _TooDeep(here()) from None
    except DefusedXmlException as exc:
        # The exception's text carries the DTD's system id: attacker text, not echoed.
        what = {
            "DTDForbidden": "a document type declaration (DTD)",
            "EntitiesForbidden": "an entity declaration",
            "ExternalReferenceForbidden": "a reference to an external resource",
        }.get(type(exc).__name__, "an unsafe construct")
        raise InputError(
            f"unsafe XML refused: {what} is not allowed (entities could expand without bound or fetch outside data)",
            file=path,
            position=here(),
        ) from None
    except (LookupError, ValueError):
        # pyexpat looks an encoding it does not know up among Python's codecs: an unknown name
        # is a LookupError, a multi-byte or non-text codec a ValueError. The name is not echoed.
        raise InputError(
            "the XML declaration names an encoding that cannot be read (expat reads UTF-8, UTF-16, ISO-8859-1 and single-byte code pages)",
            file=path,
            position=Position(line=1),
            hint="re-encode the file as UTF-8",
        ) from None
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise InputError(
            f"invalid XML: {str(exc).split(':')[0]}",
            file=path,
            position=Position(line=line, column=(col + 1) if col is not None else None),
        ) from None
