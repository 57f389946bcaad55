"""S3's ACL operations and headers: Get/PutBucketAcl, Get/PutObjectAcl, ownership controls, x-amz-acl and grants."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, local, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import InvalidArgument, NotImplementedOperation
from altostratus.lake.acl import AclRequest, Grant, Permission, parse_ownership
from altostratus.lake.permissions import AclView

XSI = "http://www.w3.org/2001/XMLSchema-instance"
GRANT_HEADERS = {
    "x-amz-grant-read": Permission.READ,
    "x-amz-grant-write": Permission.WRITE,
    "x-amz-grant-read-acp": Permission.READ_ACP,
    "x-amz-grant-write-acp": Permission.WRITE_ACP,
    "x-amz-grant-full-control": Permission.FULL_CONTROL,
}
# One grantee in a grant header: id="...", uri="..." or emailAddress="..." (quotes optional, as S3 reads them).
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*("([^"]*)"|[^,\s]+)\s*(,|$)', re.I)


def acl_request(headers: Mapping[str, str]) -> AclRequest:
    """The ACL a request's x-amz-acl or x-amz-grant-* headers ask for (neither: AclRequest(), the default)."""
    grants = [
        grant
        for name, permission in GRANT_HEADERS.items()
        if name in headers
        for grant in _grantees(name, headers[name], permission)
    ]
    return AclRequest(headers.get("x-amz-acl"), tuple(grants))


def _grantees(header: str, value: str, permission: Permission) -> list[Grant]:
    found: list[Grant] = []
    position = 0
    while position < len(value):
        match = _GRANTEE.match(value, position)
        if match is None:
            raise InvalidArgument(f'{header}={value!r}; expected grantees as id="<canonical id>" or uri="<group URI>"')
        kind, grantee = match[1].lower(), match[3] if match[3] is not None else match[2]
        found.append(_grant(kind, grantee, permission, header))
        position = match.end()
    if not found:
        raise InvalidArgument(f"{header} is empty; expected at least one grantee")
    return found


def _grant(kind: str, grantee: str, permission: Permission, where: str) -> Grant:
    if kind == "emailaddress":
        raise NotImplementedOperation(
            f"{where}: grantees by e-mail address are not supported (this server has no e-mail directory); "
            'name the user by its canonical id, id="AIDA..."'
        )
    return Grant(permission, canonical_id=grantee) if kind == "id" else Grant(permission, group=grantee)


def acl_from_xml(body: bytes) -> AclRequest:
    """The grants of an AccessControlPolicy document (its Owner, if any, must not say otherwise)."""
    root = parse(body, "AccessControlPolicy")
    lists = children(root, "AccessControlList")
    if len(lists) != 1:
        raise MalformedXML("<AccessControlPolicy> must hold one <AccessControlList>")
    grants = []
    for node in children(lists[0], "Grant"):
        found = children(node, "Grantee")
        if len(found) != 1:
            raise MalformedXML("each <Grant> must hold one <Grantee>")
        value = text(node, "Permission")
        try:
            permission = Permission(value)
        except ValueError:
            raise MalformedXML(f"Permission={value!r}; expected one of {[p.value for p in Permission]}") from None
        grants.append(_xml_grantee(found[0], permission))
    return AclRequest(None, tuple(grants))


def _xml_grantee(node: ET.Element, permission: Permission) -> Grant:
    kind = next((value for name, value in node.attrib.items() if local(name) == "type"), "")
    if kind == "CanonicalUser":
        return _grant("id", text(node, "ID"), permission, "Grantee")
    if kind == "Group":
        return _grant("uri", text(node, "URI"), permission, "Grantee")
    if kind == "AmazonCustomerByEmail":
        return _grant("emailaddress", text(node, "EmailAddress"), permission, "Grantee")
    raise MalformedXML(f"Grantee xsi:type={kind!r}; expected CanonicalUser or Group")


def acl_document(view: AclView) -> Reply:
    """The AccessControlPolicy answer of GetBucketAcl and GetObjectAcl."""
    grants = []
    for grant in view.grants:
        grantee = element("Grantee", *fields(ID=grant.canonical_id, URI=grant.group))
        grantee.set(f"{{{XSI}}}type", "CanonicalUser" if grant.canonical_id is not None else "Group")
        if grant.canonical_id == view.owner_id:
            grantee.append(element("DisplayName", text=view.owner_name))
        grants.append(element("Grant", grantee, element("Permission", text=grant.permission.value)))
    owner = element("Owner", *fields(ID=view.owner_id, DisplayName=view.owner_name))
    return xml_reply("AccessControlPolicy", [owner, element("AccessControlList", *grants)])


class AclOperations:
    """S3's ACL and ownership-control operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def get_bucket_acl(self, call: Call) -> Reply:
        """GetBucketAcl."""
        return acl_document(await to_thread.run_sync(self._s3.permissions.bucket_acl, call.path_params["Bucket"]))

    async def put_bucket_acl(self, call: Call) -> Reply:
        """PutBucketAcl: a canned ACL or grant headers, or an AccessControlPolicy document."""
        request = await _acl_of(call)
        await to_thread.run_sync(self._s3.permissions.set_bucket_acl, call.path_params["Bucket"], request)
        return Reply()

    async def get_object_acl(self, call: Call) -> Reply:
        """GetObjectAcl (of the latest version, or ?versionId=)."""
        view = await to_thread.run_sync(
            self._s3.permissions.object_acl,
            call.path_params["Bucket"],
            call.path_params["Key"],
            call.query.get("versionId"),
        )
        return acl_document(view)

    async def put_object_acl(self, call: Call) -> Reply:
        """PutObjectAcl: a canned ACL or grant headers, or an AccessControlPolicy document."""
        request = await _acl_of(call)
        bucket, key, version_id = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        await to_thread.run_sync(self._s3.permissions.set_object_acl, bucket, key, version_id, request)
        return Reply()

    async def get_bucket_ownership_controls(self, call: Call) -> Reply:
        """GetBucketOwnershipControls."""
        ownership = await to_thread.run_sync(self._s3.permissions.ownership, call.path_params["Bucket"])
        rule = element("Rule", element("ObjectOwnership", text=ownership.value))
        return xml_reply("OwnershipControls", [rule])

    async def put_bucket_ownership_controls(self, call: Call) -> Reply:
        """PutBucketOwnershipControls: one rule naming the ObjectOwnership."""
        root = parse(await call.body.read(), "OwnershipControls")
        rules = children(root, "Rule")
        if len(rules) != 1:
            raise MalformedXML(f"<OwnershipControls> holds {len(rules)} <Rule>s; expected exactly one")
        ownership = parse_ownership(text(rules[0], "ObjectOwnership"))
        await to_thread.run_sync(self._s3.permissions.set_ownership, call.path_params["Bucket"], ownership)
        return Reply()

    async def delete_bucket_ownership_controls(self, call: Call) -> Reply:
        """DeleteBucketOwnershipControls."""
        await to_thread.run_sync(self._s3.permissions.set_ownership, call.path_params["Bucket"], None)
        return Reply(status=204)


async def _acl_of(call: Call) -> AclRequest:
    body = await call.body.read()
    from_headers = acl_request(call.headers)
    if body.strip():
        if from_headers.given:
            raise InvalidArgument(
                "Specify an ACL either in headers (x-amz-acl, x-amz-grant-*) or in the body, not both"
            )
        return acl_from_xml(body)
    if not from_headers.given:
        raise MalformedXML("The request names no ACL: send x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy")
    return from_headers
