"""Multipart uploads: parts stored as blobs, stitched into one object on completion."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from altostratus.core.caller import Caller
from altostratus.core.errors import InvalidArgument
from altostratus.core.ids import token
from altostratus.lake import records
from altostratus.lake.checksums import Checksums, check_content_md5
from altostratus.lake.errors import EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload
from altostratus.lake.names import check_key
from altostratus.lake.objects import ObjectInfo, ObjectMeta, Part, Upload, WriteCondition
from altostratus.lake.service import LakeService, StreamingWriter, new_blob_key
from altostratus.lake.tables import parts, uploads
from altostratus.storage.blobs import concat

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000


class MultipartUploads:
    """Create, fill, list, complete and abort multipart uploads."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def create(self, bucket: str, key: str, meta: ObjectMeta) -> Upload:
        """A new upload for bucket/key."""
        check_key(key)
        now = self._lake.clock.now()
        upload = Upload(token(32), bucket, key, meta, now)
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
        return Upload(
            row.upload_id,
            row.bucket,
            row.key,
            ObjectMeta(row.content_type, dict(row.headers), dict(row.user_metadata)),
            row.created_at,
        )

    def part_writer(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        *,
        checksums: dict[str, str] | None = None,
        checksum_algorithms: set[str] | None = None,
    ) -> PartWriter:
        """A writer for part `number` (1 to 10,000) of the upload; checksum_algorithms arrive later, as trailers."""
        if not 1 <= number <= MAX_PARTS:
            raise InvalidArgument(f"partNumber={number}; expected an integer from 1 to {MAX_PARTS}")
        self.get(bucket, key, upload_id)
        digests = Checksums(checksum_algorithms or set(), checksums or {})
        return PartWriter(self._lake, bucket, upload_id, number, digests)

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
            return [Part(r.part_number, r.size, r.etag, r.last_modified, r.blob_key) for r in rows]

    def list_uploads(self, bucket: str, prefix: str = "") -> list[Upload]:
        """Uploads in progress in the bucket, by key then start time."""
        with self._lake.store.begin() as db:
            records.get_bucket(db, bucket)
            rows = db.execute(
                select(uploads).where(uploads.c.bucket == bucket).order_by(uploads.c.key, uploads.c.created_at)
            )
            return [
                Upload(
                    r.upload_id,
                    r.bucket,
                    r.key,
                    ObjectMeta(r.content_type, dict(r.headers), dict(r.user_metadata)),
                    r.created_at,
                )
                for r in rows
                if r.key.startswith(prefix)
            ]

    def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        chosen: Sequence[tuple[int, str]],
        caller: Caller | None = None,
        condition: WriteCondition | None = None,
    ) -> ObjectInfo:
        """Stitch the chosen (part number, ETag) pairs into the object, in order; the upload ends.

        When `condition` does not hold, nothing changes: the upload stays, to be completed again or aborted.
        """
        upload = self.get(bucket, key, upload_id)
        if not chosen:
            raise InvalidArgument("You must specify at least one part")
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
        blob = concat(self._lake.blobs, new_blob_key("objects", bucket), [p.blob_key for p in picked])
        digest = hashlib.md5(b"".join(bytes.fromhex(p.etag.strip('"')) for p in picked), usedforsecurity=False)
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=blob.size,
            etag=f'"{digest.hexdigest()}-{len(picked)}"',
            last_modified=self._lake.clock.now(),
            meta=upload.meta,
            checksums={},
            blob_key=blob.key,
        )
        try:
            self._lake.commit_object(
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


def _pick(stored: dict[int, Part], number: int, etag: str) -> Part:
    part = stored.get(number)
    if part is None or part.etag.strip('"') != etag.strip('"'):
        raise InvalidPart(
            f"Part {number} with ETag {etag!r} was not uploaded, or its ETag differs; upload it again or leave it out"
        )
    return part


class PartWriter(StreamingWriter):
    """Streams one part into a blob and records it against its upload."""

    def __init__(self, lake: LakeService, bucket: str, upload_id: str, number: int, digests: Checksums) -> None:
        super().__init__(lake, lake.blobs.writer(new_blob_key("parts", bucket)), digests)
        self._upload_id = upload_id
        self._number = number

    def commit_part(self, content_md5: str | None = None) -> Part:
        """Store the part, replacing an earlier upload of the same number."""
        blob, _ = self._store_blob()
        part = Part(self._number, blob.size, f'"{blob.md5}"', self._lake.clock.now(), blob.key)
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
            }
            if old is None:
                db.execute(insert(parts).values(upload_id=self._upload_id, part_number=part.number, **values))
            else:
                db.execute(update(parts).where(key).values(**values))
            return old
