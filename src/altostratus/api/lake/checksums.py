"""Checksums on S3's wire: the x-amz-checksum-* headers and the Checksum* elements of XML documents."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from altostratus.api.lake.xml import element, fields, local
from altostratus.lake.checksums import SUPPORTED, checksum_type_of
from altostratus.lake.objects import Upload

CHECKSUM_PREFIX = "x-amz-checksum-"
# The Checksum<ALGORITHM> elements S3 documents may carry, by algorithm.
_ELEMENTS = {f"Checksum{name}": name for name in SUPPORTED}


def checksum_headers(checksums: Mapping[str, str]) -> dict[str, str]:
    """x-amz-checksum-<algorithm> for each checksum, and x-amz-checksum-type (COMPOSITE or FULL_OBJECT)."""
    out = {CHECKSUM_PREFIX + name.lower(): value for name, value in checksums.items()}
    if checksums:
        out[CHECKSUM_PREFIX + "type"] = checksum_type_of(next(iter(checksums.values())))
    return out


def checksum_fields(checksums: Mapping[str, str], *, with_type: bool = False) -> list[ET.Element]:
    """<Checksum<ALGORITHM>> elements for the checksums, and <ChecksumType> when asked and there are any."""
    out = [element(f"Checksum{name}", text=value) for name, value in checksums.items()]
    if with_type and checksums:
        out.append(element("ChecksumType", text=checksum_type_of(next(iter(checksums.values())))))
    return out


def element_checksums(node: ET.Element) -> dict[str, str]:
    """The checksums a document's element lists as <Checksum<ALGORITHM>> children (a <Part> of a completion)."""
    return {_ELEMENTS[local(child.tag)]: child.text or "" for child in node if local(child.tag) in _ELEMENTS}


def declared_checksums(headers: Mapping[str, str]) -> dict[str, str]:
    """The x-amz-checksum-<algorithm> headers of a request that describes an object without sending it."""
    return {
        name[len(CHECKSUM_PREFIX) :].upper(): value
        for name, value in headers.items()
        if name.startswith(CHECKSUM_PREFIX) and name not in (CHECKSUM_PREFIX + "type", CHECKSUM_PREFIX + "mode")
    }


def upload_checksum_headers(upload: Upload) -> dict[str, str]:
    """x-amz-checksum-algorithm and x-amz-checksum-type of an upload created with an algorithm."""
    if upload.checksum_algorithm is None or upload.checksum_type is None:
        return {}
    return {CHECKSUM_PREFIX + "algorithm": upload.checksum_algorithm, CHECKSUM_PREFIX + "type": upload.checksum_type}


def upload_checksum_fields(upload: Upload) -> list[ET.Element]:
    """<ChecksumAlgorithm> and <ChecksumType> of an upload created with an algorithm (ListParts)."""
    return fields(ChecksumAlgorithm=upload.checksum_algorithm, ChecksumType=upload.checksum_type)
