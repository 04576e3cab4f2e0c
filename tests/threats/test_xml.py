"""XML SBOMs: external entities, billion laughs, external DTDs are refused (exit 3) with no network
access, no file read and bounded time and memory. defusedxml forbids every DTD, so nothing in one
is ever expanded or fetched."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gate.collect import read_document
from gate.errors import InputError
from tests.threats.helpers import SMALL_SAMPLES, assert_error_verdict, evaluate_verdict, network, opened, reads_of, said, within

REFUSED = "unsafe XML refused: a document type declaration (DTD) is not allowed (entities could expand without bound or fetch outside data)"
NS = "http://cyclonedx.org/schema/bom/1.6"


def bom(doctype: str, body: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<bom xmlns="{NS}" version="1">{body}<components/></bom>\n'.encode()


LAUGHS = (
    "<!DOCTYPE bom [\n"
    + '<!ENTITY l0 "lol">\n'
    + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10))
    + "]>"
)
QUADRATIC = '<!DOCTYPE bom [<!ENTITY a "' + "x" * 100_000 + '">]>'


@pytest.fixture
def listener() -> socket.socket:
    """A loopback TCP port that records whether anyone connects (nobody may)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.05)
    yield srv
    srv.close()


def nobody_connected(srv: socket.socket) -> bool:
    try:
        conn, _ = srv.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    ("name", "doctype", "entity_use"),
    [
        ("billion laughs", LAUGHS, "<metadata>&l9;</metadata>"),
        ("quadratic blowup", QUADRATIC, "<metadata>" + "&a;" * 1000 + "</metadata>"),
        ("external entity (file)", '<!DOCTYPE bom [<!ENTITY x SYSTEM "file://{secret}">]>', "<metadata>&x;</metadata>"),
        ("external entity (http)", '<!DOCTYPE bom [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]>', "<metadata>&x;</metadata>"),
        ("parameter entity", '<!DOCTYPE bom [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>', ""),
        ("external DTD", '<!DOCTYPE bom SYSTEM "http://127.0.0.1:{port}/bom.dtd">', ""),
        ("external DTD (public id)", '<!DOCTYPE bom PUBLIC "-//X//DTD Y//EN" "http://127.0.0.1:{port}/bom.dtd">', ""),
        ("internal subset, no entity", "<!DOCTYPE bom [<!ELEMENT bom ANY>]>", ""),
    ],
)
def test_dtds_are_refused_without_expansion_fetch_or_read(
    tmp_path: Path, listener: socket.socket, name: str, doctype: str, entity_use: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-xml")
    port = listener.getsockname()[1]
    path = tmp_path / "bom.xml"
    path.write_bytes(bom(doctype.format(secret=secret, port=port), entity_use))
    with within(10), opened() as events:
        started = time.perf_counter()
        res, verdict, _ = evaluate_verdict(tmp_path, str(path))
        elapsed = time.perf_counter() - started
    assert res.exit_code == 3
    assert_error_verdict(verdict, 3)
    assert verdict["error"]["message"] == REFUSED
    line = verdict["error"]["position"]["line"]
    assert line == 2 and f"{path}:{line}:" in said(res) and REFUSED in said(res)
    assert elapsed < 5
    assert reads_of(events, secret) == [] and network(events) == []
    assert nobody_connected(listener)
    assert "CANARY-xml" not in said(res) and "127.0.0.1" not in said(res), "the DTD's text is not echoed"


def test_billion_laughs_stays_small_in_a_fresh_process(tmp_path: Path) -> None:
    """Memory: reading the attack costs no more than reading a real SBOM (peak RSS, measured after each)."""
    path = tmp_path / "laughs.xml"
    path.write_bytes(bom(LAUGHS, "<metadata>&l9;</metadata>"))
    code = (
        "import resource, sys\n"
        "from gate.collect import read_report\n"
        "from gate.errors import InputError\n"
        "read_report(sys.argv[2])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    read_report(sys.argv[1])\nexcept InputError as e:\n    print(e.message)\n"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path), str(SMALL_SAMPLES["cyclonedx-xml"])], capture_output=True, text=True, timeout=60
    )
    message, peaks = proc.stdout.splitlines()
    assert message == REFUSED, proc.stderr
    before, after = (int(p) for p in peaks.split())
    unit = 1024 if sys.platform != "darwin" else 1024 * 1024
    assert (after - before) / unit < 5, f"peak RSS grew by {(after - before) / unit:.1f} MiB"


def test_xinclude_is_never_processed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-xinclude")
    body = f'<metadata><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret}" parse="text"/></metadata>'
    data = bom("", body)
    with opened() as events:
        try:
            report = read_document(data, "bom.xml")
        except InputError as exc:
            assert exc.exit_code == 3  # the schema may refuse the foreign element: refused is fine
        else:
            assert "CANARY-xinclude" not in repr(report)
    assert reads_of(events, secret) == [] and network(events) == []


@pytest.mark.slow
def test_deep_xml_is_refused_where_it_passes_the_limit_quickly() -> None:
    data = b'<?xml version="1.0"?>\n' + b"<a>" * 100_000 + b"</a>" * 100_000
    with within(10):
        started = time.perf_counter()
        with pytest.raises(InputError) as info:
            read_document(data, "deep.xml")
        elapsed = time.perf_counter() - started
    assert str(info.value) == "deep.xml:2:388: XML nested deeper than 128 levels (raise it with --max-depth)"
    assert elapsed < 3


def test_a_real_xml_sbom_still_reads() -> None:
    report = read_document(SMALL_SAMPLES["cyclonedx-xml"].read_bytes(), "shop.xml")
    assert report.result.components and report.result.format == "cyclonedx"
