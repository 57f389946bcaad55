"""S3's CORS: Put/Get/DeleteBucketCors, the browser's OPTIONS preflight, and the headers of allowed requests.

A preflight (OPTIONS /bucket or /bucket/key, never signed) is answered from the bucket's rules; an actual request
that carries an Origin a rule allows gets Access-Control-Allow-Origin and its companions on its answer, errors
included, so that the page can read why it failed. Like S3, an actual request is matched by its
Access-Control-Request-Method header when it sends one, else by its own method.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.tagging import verified_document
from altostratus.api.lake.xml import MalformedXML, children, element, fields, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.lake.cors import BucketCors, CorsRule, first_allowing
from altostratus.lake.errors import NoSuchBucket

log = logging.getLogger(__name__)
# S3 takes a CORS configuration of at most 64 KB.
MAX_CONFIGURATION_BYTES = 64 * 1024
# Every answer that depends on a request's Origin says so, for caches between the browser and the lake.
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


class CorsOperations:
    """S3's CORS configuration operations and the OPTIONS preflight, named as boto3 names them."""

    _s3: S3Services

    async def put_bucket_cors(self, call: Call) -> Reply:
        """PutBucketCors: the body's rules replace the bucket's."""
        body = await verified_document(call)
        if len(body) > MAX_CONFIGURATION_BYTES:
            raise MalformedXML(f"The CORS configuration is {len(body)} bytes; at most {MAX_CONFIGURATION_BYTES}")
        rules = cors_rules(body)
        await to_thread.run_sync(self._s3.cors.set_configuration, call.path_params["Bucket"], rules)
        return Reply()

    async def get_bucket_cors(self, call: Call) -> Reply:
        """GetBucketCors; NoSuchCORSConfiguration (404) for a bucket without one."""
        rules = await to_thread.run_sync(self._s3.cors.configuration, call.path_params["Bucket"])
        return xml_reply("CORSConfiguration", [cors_rule_element(rule) for rule in rules])

    async def delete_bucket_cors(self, call: Call) -> Reply:
        """DeleteBucketCors: 204, the bucket keeps no CORS configuration."""
        await to_thread.run_sync(self._s3.cors.delete_configuration, call.path_params["Bucket"])
        return Reply(status=204)

    async def options_object(self, call: Call) -> Reply:
        """The preflight OPTIONS request: 200 with what the matching rule allows; 403 AccessForbidden if none."""
        origin = call.headers.get("origin")
        method = call.headers.get("access-control-request-method")
        requested = requested_headers(call.headers.get("access-control-request-headers", ""))
        rule = await to_thread.run_sync(self._s3.cors.preflight, call.path_params["Bucket"], origin, method, requested)
        assert origin is not None
        return Reply(headers=preflight_headers(rule, origin, requested))


class CrossOrigin:
    """The CORS headers of an actual (not preflight) S3 request's answer, from its bucket's rules."""

    def __init__(self, cors: BucketCors) -> None:
        self._cors = cors

    async def __call__(self, method: str, path: str, headers: Mapping[str, str]) -> dict[str, str]:
        """Access-Control-Allow-Origin and its companions when a rule allows the request's Origin and method;
        nothing otherwise (no Origin, no bucket in the path, no configuration, no rule)."""
        origin = headers.get("origin")
        bucket = path.lstrip("/").partition("/")[0]
        if origin is None or not bucket:
            return {}
        try:
            rules = await to_thread.run_sync(self._cors.rules, bucket)
        except NoSuchBucket:
            return {}
        rule = first_allowing(rules, origin, headers.get("access-control-request-method", method))
        return actual_headers(rule, origin) if rule is not None else {}


def requested_headers(value: str) -> list[str]:
    """The header names an Access-Control-Request-Headers value lists."""
    return [name.strip() for name in value.split(",") if name.strip()]


def actual_headers(rule: CorsRule, origin: str) -> dict[str, str]:
    """The headers an allowed actual request's answer carries."""
    headers = {
        "access-control-allow-origin": "*" if rule.any_origin else origin,
        "access-control-allow-methods": ", ".join(rule.allowed_methods),
        "vary": VARY,
    }
    if not rule.any_origin:
        headers["access-control-allow-credentials"] = "true"
    if rule.expose_headers:
        headers["access-control-expose-headers"] = ", ".join(rule.expose_headers)
    return headers


def preflight_headers(rule: CorsRule, origin: str, requested: Sequence[str]) -> dict[str, str]:
    """The headers of a preflight's answer: the actual request's, the headers asked for (all allowed, or the rule
    would not match), and how long the browser may keep the answer."""
    headers = actual_headers(rule, origin)
    if requested:
        headers["access-control-allow-headers"] = ", ".join(requested)
    if rule.max_age_seconds is not None:
        headers["access-control-max-age"] = str(rule.max_age_seconds)
    return headers


def cors_rules(body: bytes) -> list[CorsRule]:
    """The rules of a <CORSConfiguration> document, as sent (the lake checks them)."""
    root = parse(body, "CORSConfiguration")
    return [_rule(node) for node in children(root, "CORSRule")]


def _rule(node: ET.Element) -> CorsRule:
    max_age = text(node, "MaxAgeSeconds", "").strip()
    if max_age and not (max_age.isascii() and max_age.lstrip("-").isdigit()):
        raise MalformedXML(f"<MaxAgeSeconds>{max_age[:32]}</MaxAgeSeconds>; expected a whole number of seconds")
    ids = children(node, "ID")
    return CorsRule(
        allowed_methods=_texts(node, "AllowedMethod"),
        allowed_origins=_texts(node, "AllowedOrigin"),
        allowed_headers=_texts(node, "AllowedHeader"),
        expose_headers=_texts(node, "ExposeHeader"),
        max_age_seconds=int(max_age) if max_age else None,
        id=(ids[0].text or "") if ids else None,
    )


def _texts(node: ET.Element, tag: str) -> tuple[str, ...]:
    return tuple((child.text or "").strip() for child in children(node, tag))


def cors_rule_element(rule: CorsRule) -> ET.Element:
    """<CORSRule> as GetBucketCors answers it."""
    listed = [
        *fields(ID=rule.id),
        *[element("AllowedHeader", text=h) for h in rule.allowed_headers],
        *[element("AllowedMethod", text=m) for m in rule.allowed_methods],
        *[element("AllowedOrigin", text=o) for o in rule.allowed_origins],
        *[element("ExposeHeader", text=h) for h in rule.expose_headers],
        *fields(MaxAgeSeconds=rule.max_age_seconds),
    ]
    return element("CORSRule", *listed)
