"""The LakeService: buckets, objects and their events, over a BlobStore and the MetadataStore."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.caller import Caller
from altostratus.core.clock import Clock
from altostratus.core.errors import BadRequest, InvalidArgument
from altostratus.core.events import EventBus
from altostratus.lake import notifications, records
from altostratus.lake.checksums import Checksums, check_content_md5
from altostratus.lake.errors import BucketAlreadyOwnedByYou, BucketNotEmpty, ConditionalRequestConflict
from altostratus.lake.listing import list_page
from altostratus.lake.names import check_bucket_name, check_key
from altostratus.lake.objects import Bucket, Listing, NotificationRule, ObjectInfo, ObjectMeta, WriteCondition
from altostratus.lake.tables import buckets, objects, parts, uploads
from altostratus.storage.blobs import BlobInfo, BlobStore, BlobWriter
from altostratus.storage.metadata import MetadataStore

# Blobs younger than this are never collected: another process may be about to commit them.
GARBAGE_GRACE_SECONDS = 3600


def new_blob_key(kind: str, bucket: str) -> str:
    """A fresh, never-reused blob key: every write gets its own blob, so replacing an object is atomic.

    The name starts with the creation time, so garbage collection can tell in-flight blobs from orphans.
    """
    name = uuid.uuid4().hex
    return f"{kind}/{bucket}/{name[:2]}/{int(time.time()):x}-{name}"


def _blob_age_seconds(key: str, now: float) -> float:
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    try:
        return now - int(stamp, 16)
    except ValueError:
        return 0.0


# Given a notification rule's function ARN: None when it can be delivered to, else why not.
DestinationCheck = Callable[[str], str | None]


class LakeService:
    """Buckets and objects; every change is committed to the metadata store before it is announced."""

    def __init__(
        self,
        store: MetadataStore,
        blobs: BlobStore,
        bus: EventBus,
        clock: Clock,
        region: str,
        *,
        check_destination: DestinationCheck | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.bus = bus
        self.clock = clock
        self.region = region
        self._check_destination = check_destination

    # Buckets

    def create_bucket(self, name: str) -> Bucket:
        """A new, empty bucket; BucketAlreadyOwnedByYou if it exists."""
        bucket = Bucket(check_bucket_name(name), self.region, self.clock.now())
        try:
            with self.store.begin() as db:
                db.execute(insert(buckets).values(name=name, region=self.region, created_at=bucket.created_at))
        except IntegrityError:
            raise BucketAlreadyOwnedByYou(f"Bucket={name!r} already exists and is yours", bucket=name) from None
        return bucket

    def list_buckets(self) -> list[Bucket]:
        """Every bucket, by name."""
        with self.store.read() as db:
            rows = db.execute(select(buckets.c.name, buckets.c.region, buckets.c.created_at).order_by(buckets.c.name))
            return [Bucket(r.name, r.region, r.created_at) for r in rows]

    def get_bucket(self, name: str) -> Bucket:
        """The bucket; NoSuchBucket if absent."""
        with self.store.read() as db:
            return records.get_bucket(db, name)

    def delete_bucket(self, name: str) -> None:
        """Remove an empty bucket; BucketNotEmpty if it holds objects or uploads in progress."""
        with self.store.begin() as db:
            records.get_bucket(db, name)
            held = db.execute(select(func.count()).select_from(objects).where(objects.c.bucket == name)).scalar()
            pending = db.execute(select(func.count()).select_from(uploads).where(uploads.c.bucket == name)).scalar()
            if held or pending:
                raise BucketNotEmpty(f"Bucket={name!r} is not empty", bucket=name)
            db.execute(delete(buckets).where(buckets.c.name == name))

    # Objects

    def object_writer(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        *,
        content_md5: str | None = None,
        checksums: Mapping[str, str] | None = None,
        checksum_algorithms: set[str] | None = None,
    ) -> ObjectWriter:
        """A writer for a new version of bucket/key; the object appears whole on commit, or not at all."""
        check_key(key)
        self.get_bucket(bucket)
        digests = Checksums(checksum_algorithms or set(), checksums or {})
        blob = self.blobs.writer(new_blob_key("objects", bucket))
        return ObjectWriter(self, bucket, key, meta, blob, digests, content_md5)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """What is known of the object; NoSuchBucket or NoSuchKey if absent."""
        with self.store.read() as db:
            return records.get_object(db, bucket, key)

    def read(self, info: ObjectInfo, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes [start, end) of the object."""
        return self.blobs.read(info.blob_key, start, end)

    def delete_object(self, bucket: str, key: str, caller: Caller | None = None) -> bool:
        """Remove the object; True if there was one (S3 answers the same either way)."""
        check_key(key)
        with self.store.begin() as db:
            rules = records.notification_rules(db, bucket)
            old = records.delete_object_row(db, bucket, key)
        if old is None:
            return False
        self.blobs.delete(old)
        self.announce("ObjectRemoved:Delete", bucket, key, None, caller, rules)
        return True

    def copy_object(
        self, source: ObjectInfo, bucket: str, key: str, meta: ObjectMeta | None, caller: Caller | None = None
    ) -> ObjectInfo:
        """Copy source to bucket/key, with its own metadata unless meta replaces it."""
        if (source.bucket, source.key) == (bucket, key) and meta is None:
            raise BadRequest(
                "This copy request is illegal because it is trying to copy an object to itself without "
                "changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        writer = self.object_writer(bucket, key, meta or source.meta)
        with writer:
            for chunk in self.read(source):
                writer.write(chunk)
            return writer.commit(caller, event_name="ObjectCreated:Copy")

    def list_objects(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", after: str = "", max_keys: int = 1000
    ) -> Listing:
        """One page of objects in key order, keys under a delimiter rolled up into common prefixes."""
        if max_keys < 0:
            raise InvalidArgument(f"max-keys={max_keys}; expected 0 or more")
        with self.store.read() as db:
            records.get_bucket(db, bucket)
            return list_page(db, bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=min(max_keys, 1000))

    # Notifications

    def set_notification_rules(self, bucket: str, rules: list[NotificationRule]) -> None:
        """Replace the bucket's notification rules; each destination is checked first, as S3 tests it."""
        checked = notifications.check_rules(rules)
        for rule in checked:
            problem = self._check_destination(rule.function_arn) if self._check_destination else None
            if problem:
                raise InvalidArgument(
                    f"Unable to validate the following destination configurations: {rule.function_arn!r} ({problem})"
                )
        with self.store.begin() as db:
            records.get_bucket(db, bucket)
            db.execute(
                update(buckets)
                .where(buckets.c.name == bucket)
                .values(notification_config=notifications.rules_to_json(checked))
            )

    def notification_rules(self, bucket: str) -> list[NotificationRule]:
        """The bucket's notification rules."""
        with self.store.read() as db:
            return records.notification_rules(db, bucket)

    def announce(
        self,
        event_name: str,
        bucket: str,
        key: str,
        obj: ObjectInfo | None,
        caller: Caller | None,
        rules: list[NotificationRule] | None = None,
    ) -> None:
        """Publish the change on OBJECT_TOPIC, and one S3 event record per matching notification rule (read now
        unless given) on TOPIC, on the event bus."""
        change = {"event": event_name, "bucket": bucket, "key": key, "etag": obj.etag if obj else ""}
        self.bus.publish(notifications.OBJECT_TOPIC, change)
        if rules is None:
            rules = self.notification_rules(bucket)
        rules = [r for r in rules if notifications.matches(r, event_name, key)]
        when = self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        caller = caller or Caller()
        for rule in rules:
            record = notifications.event_record(
                event_name=event_name,
                rule=rule,
                region=self.region,
                bucket=bucket,
                key=key,
                caller=caller,
                event_time=when,
                obj=obj,
            )
            # The trace id travels beside the record, which keeps exactly the shape S3 sends.
            message = {"function_arn": rule.function_arn, "event": record, "trace_id": caller.trace_id}
            self.bus.publish(notifications.TOPIC, message)

    # Housekeeping

    def collect_garbage(self, grace_seconds: float = GARBAGE_GRACE_SECONDS) -> int:
        """Delete blobs older than grace_seconds that no object or part refers to (left by a crash)."""
        with self.store.begin() as db:
            live = set(db.execute(select(objects.c.blob_key)).scalars())
            live |= set(db.execute(select(parts.c.blob_key)).scalars())
        removed = 0
        now = time.time()
        for prefix in ("objects/", "parts/"):
            for key in list(self.blobs.keys(prefix)):
                if key not in live and _blob_age_seconds(key, now) >= grace_seconds:
                    self.blobs.delete(key)
                    removed += 1
        return removed

    def commit_object(
        self,
        info: ObjectInfo,
        caller: Caller | None,
        event_name: str,
        *,
        within: Callable[[Connection], None] | None = None,
        condition: WriteCondition | None = None,
    ) -> ObjectInfo:
        """Make info the current version of its key, drop the blob it replaced, announce it.

        `within` runs in the same transaction first (multipart completion ends its upload there), so the
        object appears exactly when whatever it replaces disappears, or neither happens. A `condition` is
        checked in that transaction too, against the key's object at that moment.
        """
        try:
            with self.store.begin() as db:
                if within is not None:
                    within(db)
                rules = records.notification_rules(db, info.bucket)
                old = records.put_object_row(db, info, condition)
        except IntegrityError:
            if condition is None:
                raise
            # Another write created the key between this one's check and its insert (PostgreSQL).
            raise ConditionalRequestConflict(
                "A conflicting operation occurred. If using PutObject you can retry the request."
            ) from None
        if old is not None and old != info.blob_key:
            self.blobs.delete(old)
        self.announce(event_name, info.bucket, info.key, info, caller, rules)
        return info


class StreamingWriter:
    """Streams bytes into a new blob while checksums run; subclasses decide what committing means."""

    def __init__(self, lake: LakeService, blob: BlobWriter, digests: Checksums) -> None:
        self._lake = lake
        self._blob = blob
        self._digests = digests
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._blob.write(chunk)
        self._digests.update(chunk)
        self.size += len(chunk)

    def expect_checksum(self, algorithm: str, value: str) -> None:
        """Require that the bytes written hash to value under algorithm (sent as a trailer)."""
        self._digests.expect(algorithm, value)

    def _store_blob(self) -> tuple[BlobInfo, dict[str, str]]:
        try:
            checksums = self._digests.verify()
        except BaseException:
            self._blob.abort()
            raise
        return self._blob.commit(), checksums

    def abort(self) -> None:
        """Throw the bytes away."""
        self._blob.abort()

    def __enter__(self) -> StreamingWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            self.abort()


class ObjectWriter(StreamingWriter):
    """Streams one object's bytes into a new blob, then commits it as the object's current version."""

    def __init__(
        self,
        lake: LakeService,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        blob: BlobWriter,
        digests: Checksums,
        content_md5: str | None,
    ) -> None:
        super().__init__(lake, blob, digests)
        self._bucket = bucket
        self._key = key
        self._meta = meta
        self._content_md5 = content_md5

    def commit(
        self,
        caller: Caller | None = None,
        *,
        event_name: str = "ObjectCreated:Put",
        condition: WriteCondition | None = None,
    ) -> ObjectInfo:
        """Check digests, store the blob, make it the object if `condition` holds; on any error nothing is stored."""
        blob, checksums = self._store_blob()
        info = ObjectInfo(
            bucket=self._bucket,
            key=self._key,
            size=blob.size,
            etag=f'"{blob.md5}"',
            last_modified=self._lake.clock.now(),
            meta=self._meta,
            checksums=checksums,
            blob_key=blob.key,
        )
        try:
            check_content_md5(self._content_md5, blob.md5)
            return self._lake.commit_object(info, caller, event_name, condition=condition)
        except BaseException:
            self._lake.blobs.delete(blob.key)
            raise


__all__ = ["LakeService", "ObjectWriter", "StreamingWriter"]
