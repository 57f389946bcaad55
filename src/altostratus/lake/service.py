"""The LakeService: buckets, objects and their events, over a BlobStore and the MetadataStore."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.caller import Caller
from altostratus.core.clock import Clock
from altostratus.core.errors import BadRequest, InvalidArgument
from altostratus.core.events import EventBus
from altostratus.core.ttl_cache import TtlCache
from altostratus.lake import bodies, notifications, records, version_records
from altostratus.lake.acl import Grant, Owned, Ownership, grants_to_json
from altostratus.lake.bucket_encryption import default_encryption
from altostratus.lake.checksums import Checksums
from altostratus.lake.encryption import (
    CustomerKey,
    EncryptionRequest,
    Keyring,
    SealedBlobWriter,
    open_range,
    refuse_without_keyring,
)
from altostratus.lake.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    MethodNotAllowed,
    NoSuchVersion,
)
from altostratus.lake.listing import list_page
from altostratus.lake.names import check_bucket_name, check_key
from altostratus.lake.object_lock import InvalidBucketState, LockConfiguration, Retention, protected
from altostratus.lake.objects import (
    NULL_VERSION,
    Bucket,
    Listing,
    NotificationRule,
    ObjectInfo,
    ObjectMeta,
    WriteCondition,
)
from altostratus.lake.tables import buckets, objects, parts, uploads
from altostratus.lake.tagging import OBJECT_TAGS, check_tags
from altostratus.lake.version_records import Removal
from altostratus.lake.versions import Versioning, VersionListing, check_version_id, list_versions
from altostratus.lake.writers import ObjectWriter, PendingCommit, StreamingWriter
from altostratus.storage.blobs import BlobStore, BlobWriter
from altostratus.storage.metadata import MetadataStore

# How long a bucket's default encryption is kept (changes made in this process are seen at once).
DEFAULT_ENCRYPTION_SECONDS = 5.0
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
        keyring: Keyring | None = None,
        inline_limit: int = bodies.INLINE_LIMIT,
    ) -> None:
        self.store = store
        self._inline_limit = inline_limit  # 0: never keep an object's bytes beside its row (lake/bodies.py)
        self.blobs = blobs
        self.bus = bus
        self.clock = clock
        self.region = region
        self._check_destination = check_destination
        self.keyring = keyring or refuse_without_keyring()
        self._bucket_listeners: list[Callable[[str], None]] = []
        # Every PUT asks its bucket's default encryption: kept for a few seconds, as the access state is.
        self._default_encryption: TtlCache[EncryptionRequest | None] = TtlCache(clock, DEFAULT_ENCRYPTION_SECONDS)
        self.on_bucket_change(self._default_encryption.forget)

    def on_bucket_change(self, listener: Callable[[str], None]) -> None:
        """Call listener(bucket) whenever a bucket is created or deleted (access caches forget it)."""
        self._bucket_listeners.append(listener)

    # Buckets

    def create_bucket(
        self,
        name: str,
        *,
        owner: str | None = None,
        acl: tuple[Grant, ...] | None = None,
        ownership: Ownership | None = None,
        object_lock: bool = False,
    ) -> Bucket:
        """A new, empty bucket of this owner (a user's name; None: the account), with this ACL (None: private)
        and object ownership control, and object lock (which turns versioning on for good) if asked;
        BucketAlreadyOwnedByYou if it exists and is the owner's, BucketAlreadyExists if another's."""
        bucket = Bucket(check_bucket_name(name), self.region, self.clock.now())
        values: dict[str, Any] = {
            "owner": owner,
            "acl": grants_to_json(acl),
            "ownership": ownership.value if ownership else None,
        }
        if object_lock:
            values.update(versioning=Versioning.ENABLED.value, object_lock=LockConfiguration().to_json())
        try:
            with self.store.begin() as db:
                db.execute(
                    insert(buckets).values(name=name, region=self.region, created_at=bucket.created_at, **values)
                )
        except IntegrityError:
            with self.store.read() as db:
                holder = db.execute(select(buckets.c.owner).where(buckets.c.name == name)).first()
            if holder is not None and holder.owner != owner:
                raise BucketAlreadyExists(
                    f"Bucket={name!r} already exists and belongs to someone else; choose another name", bucket=name
                ) from None
            raise BucketAlreadyOwnedByYou(f"Bucket={name!r} already exists and is yours", bucket=name) from None
        self.bucket_changed(name)
        return bucket

    def list_buckets(self, *, owner: str | None = None, everyone: bool = True) -> list[Bucket]:
        """Every bucket, by name; with everyone=False, only those of this owner (None: the account's)."""
        query = select(buckets.c.name, buckets.c.region, buckets.c.created_at).order_by(buckets.c.name)
        if not everyone:
            query = query.where(buckets.c.owner.is_(None) if owner is None else buckets.c.owner == owner)
        with self.store.read() as db:
            return [Bucket(r.name, r.region, r.created_at) for r in db.execute(query)]

    def bucket_changed(self, name: str) -> None:
        """Tell whoever caches the bucket's state (access, default encryption) that it changed in this process."""
        for listener in self._bucket_listeners:
            listener(name)

    def get_bucket(self, name: str) -> Bucket:
        """The bucket; NoSuchBucket if absent."""
        with self.store.read() as db:
            return records.get_bucket(db, name)

    def delete_bucket(self, name: str) -> None:
        """Remove a bucket that holds no object version; BucketNotEmpty otherwise. Multipart uploads still in
        progress do not keep it, as in S3: they end with it, their parts thrown away."""
        with self.store.begin() as db:
            records.get_bucket(db, name)
            held = db.execute(select(func.count()).select_from(objects).where(objects.c.bucket == name)).scalar()
            if held:
                raise BucketNotEmpty(f"Bucket={name!r} is not empty", bucket=name)
            pending = select(uploads.c.upload_id).where(uploads.c.bucket == name)
            unused = list(db.execute(select(parts.c.blob_key).where(parts.c.upload_id.in_(pending))).scalars())
            db.execute(delete(parts).where(parts.c.upload_id.in_(pending)))
            db.execute(delete(uploads).where(uploads.c.bucket == name))
            db.execute(delete(buckets).where(buckets.c.name == name))
        for blob in unused:
            self.blobs.delete(blob)
        self.bucket_changed(name)

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
        tags: Mapping[str, str] | None = None,
        owned: Owned | None = None,
        encryption: EncryptionRequest | None = None,
    ) -> ObjectWriter:
        """A writer for a new version of bucket/key, with this tag set, owner and ACL, sealed as `encryption` asks
        (None: as the bucket's default encryption says); the object appears whole on commit, or not at all."""
        check_key(key)
        checked_tags = check_tags((tags or {}).items(), OBJECT_TAGS)
        wanted = encryption or self._default_encryption.get(bucket, lambda: self._read_default_encryption(bucket))
        digests = Checksums(checksum_algorithms or set(), checksums or {})
        blob_key = new_blob_key("objects", bucket)
        buffered = bodies.BufferedBlobWriter(self.blobs, blob_key, self._inline_limit) if self._inline_limit else None
        blob: BlobWriter = buffered or self.blobs.writer(blob_key)
        if wanted is not None:
            blob = SealedBlobWriter(blob, self.keyring.seal(wanted), segment=0)
        return ObjectWriter(
            self, bucket, key, meta, blob, digests, content_md5, tags=checked_tags, owned=owned, buffered=buffered
        )

    @property
    def inline_limit(self) -> int:
        """The most bytes of an object kept beside its row rather than in a blob (0: none; lake/bodies.py)."""
        return self._inline_limit

    def _read_default_encryption(self, bucket: str) -> EncryptionRequest | None:
        with self.store.read() as db:
            return default_encryption(db, bucket)

    def head_for_reading(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        customer_key: CustomerKey | None,
        *,
        with_body: bool = False,
    ) -> ObjectInfo:
        """The object as head() finds it, for a request that reads its bytes (or would: HEAD) with this customer
        key: refused unless the key opens it (see check_customer_key)."""
        found = self.head(bucket, key, version_id, with_body=with_body)
        self.check_customer_key(found, customer_key)
        return found

    def head(self, bucket: str, key: str, version_id: str | None = None, *, with_body: bool = False) -> ObjectInfo:
        """What is known of the object (its latest version, or the one named); NoSuchBucket, NoSuchKey (the latest
        is a delete marker: its headers say so), NoSuchVersion, or MethodNotAllowed for a delete marker named.
        with_body: a small object's bytes come in the same read (ObjectInfo.body), for a GET to send."""
        with self.store.read() as db:
            if version_id is None:
                found = records.get_object(db, bucket, key, with_body=with_body)
            else:
                found = self._version(db, bucket, key, version_id)
            if with_body and not found.blob_key and not found.delete_marker and found.body is None:
                found = dataclasses.replace(found, body=bodies.get_body(db, found))
        if found.delete_marker:
            raise MethodNotAllowed(
                "The specified method is not allowed against this resource: the version is a delete marker",
                response_headers={"x-amz-delete-marker": "true", "x-amz-version-id": version_id, "allow": "DELETE"},
            )
        return found

    @staticmethod
    def _version(db: Connection, bucket: str, key: str, version_id: str) -> ObjectInfo:
        found = version_records.get_version(db, bucket, key, check_version_id(version_id))
        if found is None:
            records.get_bucket(db, bucket)
            raise NoSuchVersion(
                f"VersionId={version_id!r} is not a version of Key={key!r} in Bucket={bucket!r}", bucket=bucket, key=key
            )
        return found

    def read(
        self, info: ObjectInfo, start: int = 0, end: int | None = None, *, customer_key: CustomerKey | None = None
    ) -> Iterator[bytes]:
        """Stream bytes [start, end) of the object, opened with the customer's key if it was stored with one: a
        missing, wrong or inapplicable key is refused here, before a byte is read."""
        sealing = self.keyring.open(info.encryption, customer_key)
        stored = self._stored_reader(info)
        if sealing is None:
            return stored(start, end)
        stop = info.size if end is None else min(end, info.size)
        return open_range(sealing, stored, start, stop)

    def _stored_reader(self, info: ObjectInfo) -> Callable[[int, int | None], Iterator[bytes]]:
        """Reads bytes [lo, hi) as stored: from the version's blob, or from beside its row (lake/bodies.py)."""
        if info.blob_key:
            return lambda lo, hi: self.blobs.read(info.blob_key, lo, hi)
        data = info.body
        if data is None:
            with self.store.read() as db:
                data = bodies.get_body(db, info)
        return lambda lo, hi: iter((data[lo:hi],))

    def check_customer_key(self, info: ObjectInfo, customer_key: CustomerKey | None) -> None:
        """Refuse a request whose customer key (SSE-C) does not open the object: missing, wrong or inapplicable."""
        self.keyring.open(info.encryption, customer_key)

    def delete_object(
        self,
        bucket: str,
        key: str,
        caller: Caller | None = None,
        *,
        version_id: str | None = None,
        bypass_governance: bool = False,
    ) -> Removal:
        """Delete as S3 does: the version named (unless object lock protects it; GOVERNANCE retention yields to
        bypass_governance); else the object, or (versioned bucket) add a delete marker."""
        check_key(key)
        if version_id is not None:
            check_version_id(version_id)
        with self.store.begin() as db:
            state = records.write_state(db, bucket)
            rules = state.rules
            removal = version_records.remove(
                db, bucket, key, version_id, Versioning(state.versioning), self.clock, bypass_governance
            )
        for blob in removal.unused_blobs:
            self.blobs.delete(blob)
        if removal.delete_marker and removal.removed is None:
            self.announce("ObjectRemoved:DeleteMarkerCreated", bucket, key, None, caller, rules)
        elif removal.removed is not None:
            self.announce("ObjectRemoved:Delete", bucket, key, None, caller, rules)
        return removal

    def set_versioning(self, bucket: str, state: Versioning) -> None:
        """Enable or suspend versioning; a bucket never returns to unversioned, nor suspends under object lock."""
        with self.store.begin() as db:
            if records.write_state(db, bucket).lock is not None and state is not Versioning.ENABLED:
                raise InvalidBucketState(
                    f"Bucket={bucket!r} has object lock, which needs versioning: it cannot be suspended"
                )
            db.execute(update(buckets).where(buckets.c.name == bucket).values(versioning=state.value))

    def versioning(self, bucket: str) -> Versioning:
        """The bucket's versioning state."""
        with self.store.read() as db:
            return Versioning(records.write_state(db, bucket).versioning)

    def list_versions(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        version_id_marker: str = "",
        max_keys: int = 1000,
    ) -> VersionListing:
        """One page of every version and delete marker, by key and then newest first."""
        if max_keys < 0:
            raise InvalidArgument(f"max-keys={max_keys}; expected 0 or more")
        with self.store.read() as db:
            records.get_bucket(db, bucket)
            return list_versions(
                db,
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker,
                version_id_marker=version_id_marker,
                max_keys=min(max_keys, 1000),
            )

    def copy_object(
        self,
        source: ObjectInfo,
        bucket: str,
        key: str,
        meta: ObjectMeta | None,
        caller: Caller | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        owned: Owned | None = None,
        retention: Retention | None = None,
        legal_hold: bool = False,
        encryption: EncryptionRequest | None = None,
        source_key: CustomerKey | None = None,
    ) -> ObjectInfo:
        """Copy source to bucket/key, with its own metadata unless meta replaces it, and its tags unless tags do;
        the copy is `owned`'s (never the source's owner and ACL, as S3 copies), with the object lock given (the
        source's retention and hold stay with the source, as in S3). The source is opened with source_key if it is
        SSE-C; the copy is sealed as `encryption` asks, else by its bucket's default (never as the source was)."""
        if (source.bucket, source.key) == (bucket, key) and meta is None and encryption is None:
            raise BadRequest(
                "This copy request is illegal because it is trying to copy an object to itself without "
                "changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        chunks = self.read(source, customer_key=source_key)
        writer = self.object_writer(
            bucket,
            key,
            meta or source.meta,
            tags=source.tags if tags is None else tags,
            owned=owned,
            encryption=encryption,
        )
        with writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit(caller, event_name="ObjectCreated:Copy", retention=retention, legal_hold=legal_hold)

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
        body: bytes | None = None,
    ) -> ObjectInfo:
        """Make info the current version of its key, drop the blob it replaced, announce it.

        `within` runs in the same transaction first (multipart completion ends its upload there), so the
        object appears exactly when whatever it replaces disappears, or neither happens. A `condition` is
        checked in that transaction too, against the key's object at that moment. A small object's `body` is
        stored in that transaction too (lake/bodies.py), which concurrent writes may share (group commit).
        """
        try:
            written = self.store.grouped(self._commit_work(info, within, condition, body))
        except IntegrityError as error:
            raise _commit_error(error, condition) from None
        return self._committed(event_name, caller, *written)

    def commit_objects(self, batch: Sequence[PendingCommit]) -> list[ObjectInfo | BaseException]:
        """Commit each pending version as commit_object does, all in one transaction where they can (one commit,
        one fsync), each failing alone: the versions, or what each one's commit raised (its blob then dropped)."""
        works = [self._commit_work(p.info, None, p.condition, p.body) for p in batch]
        results: list[ObjectInfo | BaseException] = []
        for pending, outcome in zip(batch, self.store.grouped_many(works), strict=True):
            if isinstance(outcome, BaseException):
                if pending.info.blob_key:
                    self.blobs.delete(pending.info.blob_key)
                results.append(_commit_error(outcome, pending.condition))
            else:
                results.append(self._committed(pending.event_name, pending.caller, *outcome))
        return results

    def _commit_work(
        self,
        info: ObjectInfo,
        within: Callable[[Connection], None] | None,
        condition: WriteCondition | None,
        body: bytes | None,
    ) -> Callable[[Connection], tuple[ObjectInfo, list[str], list[NotificationRule]]]:
        def write(db: Connection) -> tuple[ObjectInfo, list[str], list[NotificationRule]]:
            if within is not None:
                within(db)
            state = records.write_state(db, info.bucket)
            version, unused = version_records.write(
                db, protected(info, state.lock, self.clock.now()), Versioning(state.versioning), condition
            )
            if body is not None:
                bodies.put_body(db, version, body)
            elif version.version_id == NULL_VERSION:  # a null version rewritten in place may have kept bytes
                bodies.drop_body(db, version)
            return version, unused, state.rules

        return write

    def _committed(
        self, event_name: str, caller: Caller | None, info: ObjectInfo, unused: list[str], rules: list[NotificationRule]
    ) -> ObjectInfo:
        for blob in unused:
            self.blobs.delete(blob)
        self.announce(event_name, info.bucket, info.key, info, caller, rules)
        return info


def _commit_error(error: BaseException, condition: WriteCondition | None) -> BaseException:
    """What a failed commit raises: a conditional write's lost race (PostgreSQL) is S3's conflict."""
    if isinstance(error, IntegrityError) and condition is not None:
        # Another write created the key between this one's check and its insert (PostgreSQL).
        return ConditionalRequestConflict(
            "A conflicting operation occurred. If using PutObject you can retry the request."
        )
    return error


__all__ = ["LakeService", "ObjectWriter", "PendingCommit", "StreamingWriter"]  # the writers live in lake/writers.py
