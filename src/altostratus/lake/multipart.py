"""Multipart uploads: parts stored as blobs, stitched into one object on completion."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from altostratus.core.caller import Caller
from altostratus.core.errors import InvalidArgument
from altostratus.core.ids import token
from altostratus.lake import records
from altostratus.lake.acl import Owned, grants_from_json, grants_to_json
from altostratus.lake.bucket_encryption import default_encryption
from altostratus.lake.checksums import (
    Checksums,
    InvalidChecksumRequest,
    check_content_md5,
    check_part_algorithm,
    combined_checksum,
    multipart_checksum_type,
)
from altostratus.lake.encryption import (
    CustomerKey,
    EncryptionRequest,
    Envelope,
    MissingCustomerKey,
    SealedBlobWriter,
    Sealing,
)
from altostratus.lake.errors import BadDigest, EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchKey, NoSuchUpload
from altostratus.lake.names import check_key
from altostratus.lake.objects import ObjectInfo, ObjectMeta, Part, PartSummary, Upload, WriteCondition
from altostratus.lake.service import LakeService, StreamingWriter, new_blob_key
from altostratus.lake.tables import parts, uploads
from altostratus.lake.tagging import OBJECT_TAGS, check_tags
from altostratus.storage.blobs import BlobWriter, concat

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000


@dataclasses.dataclass(frozen=True)
class CompletionClaims:
    """What a CompleteMultipartUpload says of the object besides its parts' numbers and ETags, to be checked."""

    # The checksums the client has of each part, by part number.
    part_checksums: Mapping[int, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    # The object's own checksum (x-amz-checksum-<algorithm>), its type (x-amz-checksum-type) and size.
    checksums: Mapping[str, str] = dataclasses.field(default_factory=dict)
    checksum_type: str | None = None
    size: int | None = None


class MultipartUploads:
    """Create, fill, list, complete and abort multipart uploads."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def create(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        *,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        owned: Owned | None = None,
        encryption: EncryptionRequest | None = None,
    ) -> Upload:
        """A new upload for bucket/key; its parts are checksummed with checksum_algorithm if given, sealed as
        `encryption` asks (None: by the bucket's default), and the object it completes into has these tags, owner
        and ACL."""
        check_key(key)
        checksum_type = multipart_checksum_type(checksum_algorithm, checksum_type)
        checked_tags = check_tags((tags or {}).items(), OBJECT_TAGS)
        now = self._lake.clock.now()
        owned = owned or Owned()
        with self._lake.store.read() as db:
            wanted = encryption or default_encryption(db, bucket)
        envelope = self._lake.keyring.seal(wanted).envelope if wanted else None
        upload = Upload(
            token(32),
            bucket,
            key,
            meta,
            now,
            checksum_algorithm,
            checksum_type,
            checked_tags,
            owned.owner,
            owned.acl,
            encryption=envelope,
        )
        with self._lake.store.begin() as db:
            records.get_bucket(db, bucket)
            db.execute(
                insert(uploads).values(
                    upload_id=upload.upload_id,
                    bucket=bucket,
                    key=key,
                    content_type=meta.content_type,
                    headers=dict(meta.headers),
                    user_metadata=dict(meta.user_metadata),
                    created_at=now,
                    checksum_algorithm=checksum_algorithm,
                    checksum_type=checksum_type,
                    tags=checked_tags,
                    owner=owned.owner,
                    acl=grants_to_json(owned.acl),
                    encryption=envelope.to_json() if envelope else None,
                )
            )
        return upload

    def get(self, bucket: str, key: str, upload_id: str) -> Upload:
        """The upload; NoSuchUpload unless it exists for this bucket and key."""
        with self._lake.store.begin() as db:
            row = db.execute(select(uploads).where(uploads.c.upload_id == upload_id)).first()
            if row is None:
                records.get_bucket(db, bucket)
        if row is None or row.bucket != bucket or row.key != key:
            raise NoSuchUpload(
                f"UploadId={upload_id!r} does not exist for Bucket={bucket!r} Key={key!r}; it may have been "
                "aborted or completed"
            )
        return _upload(row)

    def part_writer(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        *,
        checksums: dict[str, str] | None = None,
        checksum_algorithms: set[str] | None = None,
        customer_key: CustomerKey | None = None,
    ) -> PartWriter:
        """A writer for part `number` (1 to 10,000) of the upload; checksum_algorithms arrive later, as trailers.
        An upload created with SSE-C takes its parts only with the same customer key."""
        if not 1 <= number <= MAX_PARTS:
            raise InvalidArgument(f"partNumber={number}; expected an integer from 1 to {MAX_PARTS}")
        upload = self.get(bucket, key, upload_id)
        try:
            sealing = self._lake.keyring.open(upload.encryption, customer_key)
        except MissingCustomerKey:
            raise MissingCustomerKey(
                "The multipart upload initiate requested encryption. Subsequent part requests must include the "
                "appropriate encryption parameters."
            ) from None
        claimed, algorithms = dict(checksums or {}), set(checksum_algorithms or ())
        if upload.checksum_algorithm is not None:
            check_part_algorithm(upload.checksum_algorithm, set(claimed) | algorithms)
            algorithms.add(upload.checksum_algorithm)
        return PartWriter(self._lake, bucket, upload_id, number, Checksums(algorithms, claimed), sealing)

    def list_parts(self, bucket: str, key: str, upload_id: str, *, after: int = 0, max_parts: int = 1000) -> list[Part]:
        """Parts numbered above `after`, in order, at most max_parts (one more tells the caller there are more)."""
        self.get(bucket, key, upload_id)
        with self._lake.store.begin() as db:
            rows = db.execute(
                select(parts)
                .where(parts.c.upload_id == upload_id, parts.c.part_number > after)
                .order_by(parts.c.part_number)
                .limit(max_parts + 1)
            )
            return [Part(r.part_number, r.size, r.etag, r.last_modified, r.blob_key, dict(r.checksums)) for r in rows]

    def list_uploads(self, bucket: str, prefix: str = "") -> list[Upload]:
        """Uploads in progress in the bucket, by key then start time."""
        with self._lake.store.begin() as db:
            records.get_bucket(db, bucket)
            rows = db.execute(
                select(uploads).where(uploads.c.bucket == bucket).order_by(uploads.c.key, uploads.c.created_at)
            )
            return [_upload(r) for r in rows if r.key.startswith(prefix)]

    def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        chosen: Sequence[tuple[int, str]],
        caller: Caller | None = None,
        condition: WriteCondition | None = None,
        claims: CompletionClaims | None = None,
        *,
        customer_key: CustomerKey | None = None,
    ) -> ObjectInfo:
        """Stitch the chosen (part number, ETag) pairs into the object, in order; the upload ends.

        When `condition` does not hold, nothing changes: the upload stays, to be completed again or aborted.
        Completing a finished upload again with the same parts answers the object it made, as S3 does.
        """
        try:
            upload = self.get(bucket, key, upload_id)
        except NoSuchUpload as missing:
            return self._completed_before(bucket, key, upload_id, chosen, missing)
        if not chosen:
            raise InvalidArgument("You must specify at least one part")
        if customer_key is not None:  # not needed (the parts are sealed already), but a wrong one is refused
            self._lake.keyring.open(upload.encryption, customer_key)
        numbers = [n for n, _ in chosen]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise InvalidPartOrder(
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            )
        stored = {p.number: p for p in self.list_parts(bucket, key, upload_id, max_parts=MAX_PARTS)}
        picked = [_pick(stored, number, etag) for number, etag in chosen]
        for part in picked[:-1]:
            if part.size < MIN_PART_SIZE:
                raise EntityTooSmall(
                    f"Part {part.number} has {part.size} bytes; every part but the last needs at least "
                    f"{MIN_PART_SIZE} bytes"
                )
        checksums, summaries = object_checksums(upload, picked, claims or CompletionClaims())
        etag = multipart_etag([p.etag for p in picked])
        assert etag is not None  # the parts' ETags are the MD5s this server computed
        blob = concat(self._lake.blobs, new_blob_key("objects", bucket), [p.blob_key for p in picked])
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=sum(part.size for part in picked),
            etag=etag,
            last_modified=self._lake.clock.now(),
            meta=upload.meta,
            checksums=checksums,
            blob_key=blob.key,
            parts=summaries,
            tags=upload.tags,
            owner=upload.owner,
            acl=upload.acl,
            # Each part stays sealed as it was uploaded, a segment of the object.
            encryption=upload.encryption.with_segments(tuple((p.number, p.size) for p in picked))
            if upload.encryption
            else None,
            upload_id=upload_id,
        )
        try:
            info = self._lake.commit_object(
                info,
                caller,
                "ObjectCreated:CompleteMultipartUpload",
                within=lambda db: _end_upload(db, upload_id),
                condition=condition,
            )
        except BaseException:
            self._lake.blobs.delete(blob.key)
            raise
        for part in stored.values():
            self._lake.blobs.delete(part.blob_key)
        return info

    def _completed_before(
        self, bucket: str, key: str, upload_id: str, chosen: Sequence[tuple[int, str]], missing: NoSuchUpload
    ) -> ObjectInfo:
        """The key's object if this upload made it from the same parts (an upload completed again); `missing`
        raised otherwise.

        S3 answers a repeated completion with the first one's result. The upload's rows are gone by then; the
        object records the upload that made it, and its ETag (the MD5 of the parts' ETags) which parts.
        """
        etag = multipart_etag([etag for _, etag in chosen])
        try:
            current = self._lake.head(bucket, key)
        except NoSuchKey:
            raise missing from None
        if etag is None or current.etag != etag or current.upload_id != upload_id:
            raise missing
        return current

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        """End the upload and throw its parts away."""
        self.get(bucket, key, upload_id)
        with self._lake.store.begin() as db:
            blob_keys = list(db.execute(select(parts.c.blob_key).where(parts.c.upload_id == upload_id)).scalars())
        if self._end(upload_id):
            for blob_key in blob_keys:
                self._lake.blobs.delete(blob_key)

    def _end(self, upload_id: str) -> bool:
        with self._lake.store.begin() as db:
            return _delete_upload_rows(db, upload_id)


def _delete_upload_rows(db: Connection, upload_id: str) -> bool:
    db.execute(delete(parts).where(parts.c.upload_id == upload_id))
    return bool(db.execute(delete(uploads).where(uploads.c.upload_id == upload_id)).rowcount)


def _end_upload(db: Connection, upload_id: str) -> None:
    if not _delete_upload_rows(db, upload_id):
        raise NoSuchUpload(f"UploadId={upload_id!r} was completed or aborted meanwhile")


def _upload(row: Row[Any]) -> Upload:
    return Upload(
        row.upload_id,
        row.bucket,
        row.key,
        ObjectMeta(row.content_type, dict(row.headers), dict(row.user_metadata)),
        row.created_at,
        row.checksum_algorithm,
        row.checksum_type,
        dict(row.tags),
        row.owner,
        grants_from_json(row.acl),
        encryption=Envelope.from_json(row.encryption),
    )


def multipart_etag(part_etags: Sequence[str]) -> str | None:
    """A multipart object's ETag: the MD5 of its parts' MD5s, then -<number of parts>; None if one is not an MD5."""
    try:
        digests = [bytes.fromhex(etag.strip('"')) for etag in part_etags]
    except ValueError:
        return None
    if any(len(digest) != 16 for digest in digests):
        return None
    return f'"{hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"'


def object_checksums(
    upload: Upload, picked: Sequence[Part], claims: CompletionClaims
) -> tuple[dict[str, str], tuple[PartSummary, ...]]:
    """The checksums of the object the picked parts make, and what it keeps of each part, checked against claims."""
    for part in picked:
        for name, value in claims.part_checksums.get(part.number, {}).items():
            if part.checksums.get(name) != value:
                raise InvalidPart(
                    f"Part {part.number} with Checksum{name}={value!r} was not uploaded with that checksum; "
                    "upload it again or name the checksum UploadPart answered"
                )
    size = sum(part.size for part in picked)
    if claims.size is not None and claims.size != size:
        raise InvalidChecksumRequest(
            f"x-amz-mp-object-size={claims.size} is not the size of the object the parts make ({size} bytes)"
        )
    algorithm, checksum_type = upload.checksum_algorithm, upload.checksum_type
    if claims.checksum_type is not None and claims.checksum_type != checksum_type:
        raise InvalidChecksumRequest(
            f"x-amz-checksum-type={claims.checksum_type!r}; the upload was created with {checksum_type or 'none'}"
        )
    strangers = sorted(set(claims.checksums) - {algorithm})
    if strangers:
        raise InvalidChecksumRequest(
            f"x-amz-checksum-{strangers[0].lower()} was sent, but the upload was created with "
            f"{'the ' + algorithm if algorithm else 'no'} checksum algorithm"
        )
    if algorithm is None or checksum_type is None:
        return {}, tuple(PartSummary(part.size) for part in picked)
    value = combined_checksum(algorithm, checksum_type, [(part.size, part.checksums[algorithm]) for part in picked])
    claimed = claims.checksums.get(algorithm)
    if claimed is not None and claimed not in (value, value.partition("-")[0]):
        raise BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")
    summaries = tuple(PartSummary(part.size, {algorithm: part.checksums[algorithm]}) for part in picked)
    return {algorithm: value}, summaries


def _pick(stored: dict[int, Part], number: int, etag: str) -> Part:
    part = stored.get(number)
    if part is None or part.etag.strip('"') != etag.strip('"'):
        raise InvalidPart(
            f"Part {number} with ETag {etag!r} was not uploaded, or its ETag differs; upload it again or leave it out"
        )
    return part


class PartWriter(StreamingWriter):
    """Streams one part into a blob and records it against its upload."""

    def __init__(
        self,
        lake: LakeService,
        bucket: str,
        upload_id: str,
        number: int,
        digests: Checksums,
        sealing: Sealing | None = None,
    ) -> None:
        blob: BlobWriter = lake.blobs.writer(new_blob_key("parts", bucket))
        super().__init__(lake, SealedBlobWriter(blob, sealing, segment=number) if sealing else blob, digests)
        self._upload_id = upload_id
        self._number = number

    def commit_part(self, content_md5: str | None = None) -> Part:
        """Store the part, replacing an earlier upload of the same number."""
        blob, checksums = self._store_blob()
        part = Part(self._number, blob.size, self._etag(blob), self._lake.clock.now(), blob.key, checksums)
        try:
            check_content_md5(content_md5, blob.md5)
            old = self._record(part)
        except BaseException:
            self._lake.blobs.delete(blob.key)
            raise
        if old is not None:
            self._lake.blobs.delete(old)
        return part

    def _record(self, part: Part) -> str | None:
        with self._lake.store.begin() as db:
            if db.execute(select(uploads.c.upload_id).where(uploads.c.upload_id == self._upload_id)).first() is None:
                raise NoSuchUpload(f"UploadId={self._upload_id!r} was completed or aborted meanwhile")
            key = (parts.c.upload_id == self._upload_id) & (parts.c.part_number == part.number)
            old = db.execute(select(parts.c.blob_key).where(key)).scalar()
            values = {
                "blob_key": part.blob_key,
                "size": part.size,
                "etag": part.etag,
                "last_modified": part.last_modified,
                "checksums": dict(part.checksums),
            }
            if old is None:
                db.execute(insert(parts).values(upload_id=self._upload_id, part_number=part.number, **values))
            else:
                db.execute(update(parts).where(key).values(**values))
            return old
