"""The SBOM and VEX readers, listed by hand (no discovery). Order is detection order."""

from __future__ import annotations

from sbom.cyclonedx import CycloneDxJsonReader, CycloneDxXmlReader
from sbom.interface import SbomReader
from sbom.openvex import OpenVexReader
from sbom.spdx import SpdxJsonReader

READERS: tuple[SbomReader, ...] = (
    CycloneDxJsonReader(),
    CycloneDxXmlReader(),
    SpdxJsonReader(),
    OpenVexReader(),
)

FORMATS: tuple[str, ...] = tuple(sorted({r.format for r in READERS}))
