"""What an S3 request needs, read off its operation, path, query and headers, and handed to the lake's authorizer.

The IAM action of each operation and what it acts on are auth/s3_actions.py's table: HeadObject needs
s3:GetObject on the object, CopyObject s3:PutObject on the target and s3:GetObject on its source, a ListObjectsV2
s3:ListBucket on the bucket (with s3:prefix, s3:delimiter and s3:max-keys for the policy's conditions), a request
naming ?versionId= the version actions (s3:GetObjectVersion). DeleteObjects names its keys in the body: the
handler checks each one as S3 does, answering AccessDenied for the keys the caller may not delete (Call.allows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, unquote

from altostratus.api.lake.browser import BROWSER_OPERATIONS
from altostratus.api.operations import RouteMatch
from altostratus.auth.keys import FUNCTION_S3_ACTIONS, AccessKey, Role
from altostratus.auth.s3_actions import ACCOUNT, BUCKET, EACH_KEY, S3_ACTIONS, VERSION_ACTIONS, s3_action
from altostratus.core.errors import AccessDenied
from altostratus.lake.access import ANONYMOUS, LakeAuthorizer, Need, Principal, RequestFacts

COPIES = frozenset({"CopyObject", "UploadPartCopy"})
# Writes that may tag the object they make (x-amz-tagging): IAM asks s3:PutObjectTagging of them too.
TAGGING_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
LISTINGS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})
LISTING_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}
_ARN_PREFIX = "arn:aws:s3:::"

# What a handler asks of resources named in a request's body: (IAM action, resource ARN) -> allowed.
BodyAccess = Callable[[str, str], bool]


def s3_needs(
    operation: str, path_params: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str]
) -> list[Need] | None:
    """The actions on resources an S3 call needs before it runs (None: an operation the table does not name)."""
    found = s3_action(operation)
    if found is None:
        return None
    action, scope = found
    if scope == EACH_KEY:
        return []
    if scope == ACCOUNT:
        return [Need(action)]
    bucket = path_params.get("Bucket", "")
    if scope == BUCKET:
        return [Need(action, bucket)]
    version_id = query.get("versionId")
    if version_id is not None:
        action = VERSION_ACTIONS.get(action, action)
    needs = [Need(action, bucket, path_params.get("Key", ""), version_id)]
    if operation in TAGGING_WRITES and "x-amz-tagging" in headers:
        needs.append(Need("s3:PutObjectTagging", bucket, path_params.get("Key", "")))
    if operation in COPIES:
        needs.append(_copy_source(headers.get("x-amz-copy-source", "")))
    return needs


def _copy_source(value: str) -> Need:
    path, _, query = value.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    version_id = parse_qs(query).get("versionId", [None])[0]
    action = "s3:GetObjectVersion" if version_id is not None else "s3:GetObject"
    return Need(action, bucket, key, version_id)


def need_of(action: str, resource: str) -> Need:
    """The Need of an action on a resource ARN (arn:aws:s3:::bucket or arn:aws:s3:::bucket/key)."""
    if not resource.startswith(_ARN_PREFIX):
        return Need(action)
    bucket, slash, key = resource[len(_ARN_PREFIX) :].partition("/")
    return Need(action, bucket, key if slash else None)


class S3Access:
    """Holds each S3 request to the lake's authorizer; the gateway calls it once the signature is verified."""

    def __init__(self, authorizer: LakeAuthorizer) -> None:
        self._authorizer = authorizer

    def __call__(
        self,
        key: AccessKey | None,
        match: RouteMatch,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        source_ip: str,
        secure: bool,
    ) -> BodyAccess:
        """Nothing raised if the request may run (AccessDenied saying why not otherwise); returns what the handler
        asks of the resources the body names."""
        operation = match.operation
        if operation in BROWSER_OPERATIONS:
            # A preflight needs no permission; a form upload is authorized once its fields are read, as the
            # PutObject of its policy's signer (Call.authorize_as): the request itself names no principal.
            return lambda action, resource: False
        principal = Principal(key.access_key_id, key.user_name, key.role) if key is not None else ANONYMOUS
        if principal.role is Role.FUNCTION and operation not in FUNCTION_S3_ACTIONS:
            raise AccessDenied(
                f"Access Denied: {principal.describe()} belongs to a function, which may read and write objects in "
                f"the lake but not call {operation}"
            )
        listing = {LISTING_KEYS[n]: v for n, v in query.items() if n in LISTING_KEYS} if operation in LISTINGS else {}
        facts = RequestFacts(secure=secure, source_ip=source_ip, listing=listing)
        needs = s3_needs(operation, match.path_params, query, headers)
        if needs is None:
            self._unlisted(principal, operation)
        elif not needs:  # the body names the resources: the role is checked now, each resource as it is reached
            self._authorizer.check_role(principal, S3_ACTIONS[operation][0])
        for need in needs or ():
            self._authorizer.check(principal, need, facts)
        return lambda action, resource: self._authorizer.allows(principal, need_of(action, resource), facts)

    def _unlisted(self, principal: Principal, operation: str) -> None:
        # An operation the table does not name (one the lake does not serve answers NotImplemented after this):
        # only the account's own keys get that far, read-only ones for reads alone, as before users existed.
        if principal.anonymous or principal.user_name is not None:
            raise AccessDenied(f"Access Denied: {principal.describe()} may not call {operation}")
        if principal.role is Role.READ_ONLY and not operation.startswith(("Get", "Head", "List", "Select")):
            raise AccessDenied(f"Access Denied: {principal.describe()} is read-only and {operation} writes")
