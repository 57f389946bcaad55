"""Building S3 XML responses and reading S3 XML requests (defusedxml: no entity tricks)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from defusedxml import ElementTree as SafeET

from altostratus.api.replies import Reply
from altostratus.core.errors import BadRequest

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


class MalformedXML(BadRequest):
    """The XML you provided was not well-formed or did not validate against our published schema."""

    code = "MalformedXML"


def iso(when: dt.datetime) -> str:
    """A timestamp as S3 writes it in XML: 2026-11-26T19:21:44.000Z."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def http_date(when: dt.datetime) -> str:
    """A timestamp as HTTP headers carry it: Thu, 26 Nov 2026 19:21:44 GMT."""
    return when.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def element(tag: str, *children: ET.Element | None, text: Any = None) -> ET.Element:
    """An element with children (None children are skipped) or text."""
    node = ET.Element(tag)
    if text is not None:
        node.text = str(text).lower() if isinstance(text, bool) else str(text)
    node.extend(c for c in children if c is not None)
    return node


def fields(**values: Any) -> list[ET.Element]:
    """One text element per keyword whose value is not None."""
    return [element(name, text=value) for name, value in values.items() if value is not None]


def xml_reply(root_tag: str, children: Iterable[ET.Element]) -> Reply:
    """A 200 reply whose body is <root_tag xmlns=S3>children</root_tag>."""
    root = element(root_tag, *children)
    root.set("xmlns", NAMESPACE)
    return xml_document(root)


def xml_document(root: ET.Element) -> Reply:
    """A 200 reply whose body is the document `root`, after S3's XML declaration."""
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Reply(body=body, media_type="application/xml")


def parse(body: bytes, root_tag: str) -> ET.Element:
    """The document's root, which must be root_tag (namespace optional); MalformedXML otherwise."""
    try:
        root: ET.Element = SafeET.fromstring(body)
    except Exception:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate against our published schema"
        ) from None
    if local(root.tag) != root_tag:
        raise MalformedXML(f"Expected the root element <{root_tag}>, got <{local(root.tag)}>")
    return root


def local(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def children(node: ET.Element, tag: str) -> list[ET.Element]:
    """Direct children with this local tag."""
    return [child for child in node if local(child.tag) == tag]


def text(node: ET.Element, tag: str, default: str | None = None) -> str:
    """The text of the first child with this tag; MalformedXML if it is required and absent."""
    found = children(node, tag)
    if not found:
        if default is None:
            raise MalformedXML(f"<{local(node.tag)}> is missing the required element <{tag}>")
        return default
    return found[0].text or ""
