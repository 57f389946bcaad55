"""S3's POST Object: a browser's HTML form upload, streamed into the lake as the form arrives.

The form is multipart/form-data: fields, then the file, last (fields after it are ignored, as S3 does). The fields
are kept (20 KB at most, as S3 allows); when the file's part begins they are checked: the policy's signature
(SigV4: x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature; or SigV2: AWSAccessKeyId, signature), the
policy's expiration and conditions (lake/post_policy.py), then the signer is held to its role and access as for a
PutObject of the key. A form with no credentials is the anonymous principal's, which a bucket's ACL or policy must
let write. The file's bytes then stream into an ObjectWriter, and commit as an ordinary write (versions, events
"ObjectCreated:Post"). Fields name what PutObject's headers do (Content-Type, x-amz-meta-*, acl, tagging as a
<Tagging> document, x-amz-checksum-*, object lock); an x-amz-* field the lake does not know is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode, urlsplit

from anyio import to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from altostratus.api import form_signature
from altostratus.api.context import Call
from altostratus.api.lake.acl import acl_request
from altostratus.api.lake.headers import META_PREFIX, STORED_HEADERS, meta_from_headers
from altostratus.api.lake.object_lock import lock_from_headers, require_integrity_header
from altostratus.api.lake.objects import claimed_checksums, version_headers
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.tagging import tag_pairs
from altostratus.api.lake.xml import element, fields, xml_document
from altostratus.api.operations import RouteMatch
from altostratus.api.replies import Reply
from altostratus.auth.keys import AccessKey
from altostratus.core.caller import ANONYMOUS, Caller
from altostratus.core.errors import BadRequest, InvalidArgument, NotImplementedOperation
from altostratus.lake.encryption import SSE_S3, EncryptionRequest
from altostratus.lake.object_lock import Retention
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.post_policy import PostPolicy, parse_policy
from altostratus.lake.service import ObjectWriter
from altostratus.lake.tagging import OBJECT_TAGS, check_tags

# S3 takes at most 20 KB of fields before the file.
MAX_FIELDS_BYTES = 20 * 1024
V4_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
V2_FIELDS = ("awsaccesskeyid", "signature")
# Fields no policy condition needs to name (besides x-ignore-*), as S3 leaves them out.
EXEMPT = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"})
# Fields that steer the upload rather than describe the object.
CONTROL_FIELDS = frozenset(
    {"key", "bucket", "policy", "success_action_status", "success_action_redirect", "redirect", "acl", "tagging"}
    | set(V4_FIELDS)
    | set(V2_FIELDS)
)
# Fields that are an object's headers, as PutObject sends them.
HEADER_FIELDS = frozenset({*STORED_HEADERS, "content-type", "content-md5"})
HEADER_PREFIXES = (META_PREFIX, "x-amz-checksum-", "x-amz-object-lock-")
SSE = "x-amz-server-side-encryption"
_KEY_MISSING = (
    "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
)


class MalformedPOSTRequest(BadRequest):
    """The body of your POST request is not well-formed multipart/form-data."""

    code = "MalformedPOSTRequest"


class MaxPostPreDataLengthExceeded(BadRequest):
    """Your POST request fields preceding the upload file were too large."""

    code = "MaxPostPreDataLengthExceededError"


class FormReader:
    """Reads a multipart/form-data body as it arrives: the fields before the file kept by lower-case name, the
    file's bytes held until taken (at most what one fed chunk holds), every part after the file skipped."""

    def __init__(self, content_type: str) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise MalformedPOSTRequest(
                f"Content-Type={content_type[:100]!r}; expected multipart/form-data with a boundary"
            )
        self.fields: dict[str, str] = {}
        self.filename = ""
        self.file_started = False
        self.ended = False
        self._pending: list[bytes] = []
        self._kept = 0
        self._part = ""  # "field", "file" or "skip"
        self._name = ""
        self._value = bytearray()
        self._header: list[bytes] = [b"", b""]
        self._headers: dict[bytes, bytes] = {}
        callbacks: dict[str, Callable[..., None]] = {
            "on_part_begin": self._begin_part,
            "on_header_field": lambda data, start, end: self._add_header(0, data[start:end]),
            "on_header_value": lambda data, start, end: self._add_header(1, data[start:end]),
            "on_header_end": self._end_header,
            "on_headers_finished": self._start_data,
            "on_part_data": lambda data, start, end: self._add_data(data[start:end]),
            "on_part_end": self._end_part,
            "on_end": self._end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        except ValueError as error:
            raise MalformedPOSTRequest(f"The form's boundary cannot be used: {error}") from None

    def feed(self, chunk: bytes) -> None:
        """Parse the next bytes of the body."""
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise MalformedPOSTRequest(
                f"The body of your POST request is not well-formed multipart/form-data: {error}"
            ) from None

    def take_file(self) -> list[bytes]:
        """The file's bytes read since the last call."""
        taken, self._pending = self._pending, []
        return taken

    def finish(self) -> None:
        """MalformedPOSTRequest if the body ended before the form's closing boundary."""
        self._parser.finalize()
        if not self.ended:
            raise MalformedPOSTRequest("The body of your POST request ends before the form's closing boundary")

    def _begin_part(self) -> None:
        self._headers, self._header, self._value = {}, [b"", b""], bytearray()

    def _add_header(self, which: int, data: bytes) -> None:
        self._header[which] += data

    def _end_header(self) -> None:
        self._headers[self._header[0].strip().lower()] = self._header[1].strip()
        self._header = [b"", b""]

    def _start_data(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = _decoded(options.get(b"name", b""), "a field's name").lower()
        if disposition != b"form-data" or not name:
            raise MalformedPOSTRequest("Every part of the form needs Content-Disposition: form-data with a name")
        if self.file_started:
            self._part = "skip"
        elif name == "file":
            self.file_started, self._part = True, "file"
            self.filename = _decoded(options.get(b"filename", b""), "the file's name").rpartition("/")[2]
        elif name in self.fields:
            raise InvalidArgument(f"The form field {name!r} appears more than once; expected it at most once")
        else:
            self._part, self._name = "field", name
            self._keep(len(name))  # names count too: a flood of empty fields is no cheaper to hold

    def _add_data(self, data: bytes) -> None:
        if self._part == "file":
            self._pending.append(data)
        elif self._part == "field":
            self._keep(len(data))
            self._value += data

    def _keep(self, size: int) -> None:
        self._kept += size
        if self._kept > MAX_FIELDS_BYTES:
            raise MaxPostPreDataLengthExceeded(
                f"Your POST request fields preceding the upload file were too large: at most {MAX_FIELDS_BYTES} bytes"
            )

    def _end_part(self) -> None:
        if self._part == "field":
            self.fields[self._name] = _decoded(bytes(self._value), f"the field {self._name!r}")
        self._part = "skip" if self.file_started else ""

    def _end(self) -> None:
        self.ended = True


def _decoded(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"The form's {what} is not UTF-8 text") from None


@dataclasses.dataclass
class FormUpload:
    """A form's file on its way into the lake, with what its commit and answer need."""

    writer: ObjectWriter
    call: Call
    caller: Caller  # the form's signer
    bucket: str
    key: str
    fields: dict[str, str]
    policy: PostPolicy | None
    retention: Retention | None
    legal_hold: bool
    size: int = 0

    def write(self, chunks: list[bytes]) -> None:
        """Append file bytes, refused once past the policy's content-length-range."""
        for chunk in chunks:
            self.size += len(chunk)
            if self.policy is not None:
                self.policy.check_size(self.size, final=False)
            self.writer.write(chunk)

    def finish(self) -> None:
        """EntityTooSmall for a file below the policy's range."""
        if self.policy is not None:
            self.policy.check_size(self.size, final=True)


class PostObjectOperations:
    """S3's POST Object (browser form uploads), named as S3 names it."""

    _s3: S3Services

    async def post_object(self, call: Call) -> Reply:
        """POST Object: the form's file becomes the object its fields describe, if its policy allows it."""
        form = FormReader(call.headers.get("content-type", ""))
        upload: FormUpload | None = None
        try:
            async for chunk in call.body:
                form.feed(chunk)
                if upload is None and form.file_started:
                    upload = await self._start(call, form)
                if upload is not None:
                    upload.write(form.take_file())
            form.finish()
            if upload is None:
                raise InvalidArgument("POST requires exactly one file upload per request: the form has no 'file'")
            upload.finish()
        except BaseException:
            if upload is not None:
                upload.writer.abort()
            raise
        done = upload
        info = await to_thread.run_sync(
            lambda: done.writer.commit(
                done.caller,
                event_name="ObjectCreated:Post",
                retention=done.retention,
                legal_hold=done.legal_hold,
            )
        )
        return _answer(done, info)

    async def _start(self, call: Call, form: FormReader) -> FormUpload:
        """Check the fields as the file begins, and open the writer it streams into."""
        bucket = call.path_params["Bucket"]
        given = dict(form.fields)
        if "key" not in given:
            raise InvalidArgument(_KEY_MISSING)
        key = given["key"].replace("${filename}", form.filename)
        now = self._s3.lake.clock.now()
        signer, policy = await to_thread.run_sync(_signer, call, given)
        if policy is not None:
            exempt = EXEMPT | {name for name in given if name.startswith("x-ignore-")}
            policy.check_fields({**given, "key": key, "bucket": bucket}, exempt, now)
        if given.get("bucket", bucket) != bucket:
            raise InvalidArgument(f"The form's bucket field ({given['bucket']!r}) is not the bucket it is posted to")
        headers = object_headers(given)
        tags = check_tags(tag_pairs(given["tagging"].encode()), OBJECT_TAGS) if "tagging" in given else {}
        encryption = sealing(given)
        require_integrity_header(headers)
        retention, hold = lock_from_headers(headers, now)
        caller = dataclasses.replace(
            call.caller,
            principal_id=signer.access_key_id if signer else ANONYMOUS,
            user_name=signer.user_name if signer else None,
        )
        authorize = call.authorize_as
        if authorize is not None:
            asked = {**headers, "x-amz-tagging": given["tagging"]} if tags else headers
            put = RouteMatch("PutObject", {"Bucket": bucket, "Key": key})
            await to_thread.run_sync(authorize, signer, put, asked)
        writer = await to_thread.run_sync(lambda: self._writer(bucket, key, headers, tags, caller, encryption))
        return FormUpload(writer, call, caller, bucket, key, given, policy, retention, hold)

    def _writer(
        self,
        bucket: str,
        key: str,
        headers: Mapping[str, str],
        tags: dict[str, str],
        caller: Caller,
        encryption: EncryptionRequest | None,
    ) -> ObjectWriter:
        owned = self._s3.permissions.for_new_object(bucket, caller, acl_request(headers))
        claimed, _ = claimed_checksums(headers)
        return self._s3.lake.object_writer(
            bucket,
            key,
            meta_from_headers(headers),
            content_md5=headers.get("content-md5"),
            checksums=claimed,
            tags=tags,
            owned=owned,
            encryption=encryption,
        )


def _signer(call: Call, given: Mapping[str, str]) -> tuple[AccessKey | None, PostPolicy | None]:
    """The key that signed the form (None: anonymous, or a server that checks no signatures) and its policy."""
    v4 = [name for name in V4_FIELDS if name in given]
    v2 = [name for name in V2_FIELDS if name in given]
    if v4 and v2:
        raise InvalidArgument(f"The form carries both SigV4 fields {v4} and SigV2 fields {v2}; sign it one way only")
    encoded = given.get("policy")
    if not v4 and not v2:
        if encoded is not None:
            raise InvalidArgument("Bucket POST must contain a field named 'x-amz-signature': the form has a policy")
        return None, None
    if encoded is None:
        raise InvalidArgument(
            "Bucket POST must contain a field named 'policy'. If it is specified, please check the order of the fields."
        )
    needed = V4_FIELDS if v4 else V2_FIELDS
    missing = [name for name in needed if name not in given]
    if missing:
        raise InvalidArgument(f"Bucket POST must contain a field named '{missing[0]}'.")
    policy = parse_policy(encoded)
    if v4 and given["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        raise InvalidArgument(f"x-amz-algorithm={given['x-amz-algorithm'][:64]!r}; expected 'AWS4-HMAC-SHA256'")
    verifier = call.verifier
    if verifier is None:
        return None, policy
    if v4:
        key = form_signature.verify_v4(
            verifier, given["x-amz-credential"], given["x-amz-date"], given["x-amz-signature"], encoded
        )
    else:
        key = form_signature.verify_v2(verifier, given["awsaccesskeyid"], given["signature"], encoded)
    return key, policy


def object_headers(given: Mapping[str, str]) -> dict[str, str]:
    """The form's fields as the headers a PutObject of the same object would send (acl as x-amz-acl);
    NotImplemented for an x-amz-* field the lake does not honour."""
    headers = {
        name: value for name, value in given.items() if name in HEADER_FIELDS or name.startswith(HEADER_PREFIXES)
    }
    if "acl" in given:
        headers["x-amz-acl"] = given["acl"]
    storage_class = given.get("x-amz-storage-class", "STANDARD")
    if storage_class != "STANDARD":
        raise NotImplementedOperation(
            f"x-amz-storage-class={storage_class[:32]!r}: the lake keeps every object in one class, STANDARD"
        )
    unknown = sorted(
        name
        for name in given
        if name.startswith("x-amz-")
        and name not in headers
        and name not in CONTROL_FIELDS
        and name not in ("x-amz-storage-class", SSE)
    )
    if unknown:
        raise NotImplementedOperation(
            f"A form field you provided implies functionality that is not implemented: {', '.join(unknown)}"
        )
    return headers


def sealing(given: Mapping[str, str]) -> EncryptionRequest | None:
    """SSE-S3 for a form asking x-amz-server-side-encryption=AES256 (None: the bucket's default); NotImplemented
    for any other encryption field (SSE-C and SSE-KMS are for PutObject's headers)."""
    asked = sorted(name for name in given if name.startswith(SSE))
    if not asked:
        return None
    if asked == [SSE] and given[SSE] == SSE_S3.kind.value:
        return SSE_S3
    shown = ", ".join(f"{name}={given[name][:32]!r}" if name == SSE else name for name in asked)
    raise NotImplementedOperation(
        f"A form field you provided implies functionality that is not implemented: {shown}. A form upload may ask "
        f"for {SSE}=AES256 (SSE-S3) only; customer keys and KMS are taken by PutObject's headers"
    )


def _answer(upload: FormUpload, info: ObjectInfo) -> Reply:
    """S3's answer to a form upload: a redirect to success_action_redirect (with bucket, key and etag), else
    success_action_status 200, 201 (with a PostResponse document) or 204 (the default, and for any other value)."""
    location = f"{upload.call.base_url}{quote(upload.bucket)}/{quote(upload.key)}"
    headers = {"etag": info.etag, "location": location, **version_headers(info)}
    redirect = upload.fields.get("success_action_redirect", upload.fields.get("redirect", ""))
    target = urlsplit(redirect)
    # S3 acts as if the field were absent when it cannot read it as a URL.
    if target.scheme in ("http", "https") and target.netloc:
        query = urlencode({"bucket": upload.bucket, "key": upload.key, "etag": info.etag}, quote_via=quote)
        return Reply(303, {**headers, "location": redirect + ("&" if target.query else "?") + query})
    status = upload.fields.get("success_action_status")
    if status == "201":
        found = fields(Location=location, Bucket=upload.bucket, Key=upload.key, ETag=info.etag)
        reply = xml_document(element("PostResponse", *found))
        reply.status = 201
        reply.headers.update(headers)
        return reply
    return Reply(200 if status == "200" else 204, headers)


__all__ = ["FormReader", "PostObjectOperations", "object_headers"]
