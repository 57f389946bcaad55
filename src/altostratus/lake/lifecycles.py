"""Lifecycle configurations on the lake's buckets, and applying them: the pass a background job runs."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from sqlalchemy import select, update

from altostratus.lake import records
from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.lifecycle import (
    Clock,
    NoSuchLifecycleConfiguration,
    Rule,
    check_rules,
    current_expires,
    noncurrent_expire,
    rules_from_json,
    rules_to_json,
)
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.object_lock import ObjectLocked
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import LakeService
from altostratus.lake.tables import buckets


@dataclasses.dataclass
class Applied:
    """What one pass did."""

    expired: int = 0  # current versions expired (deleted, or hidden by a delete marker)
    noncurrent_removed: int = 0
    delete_markers_removed: int = 0
    uploads_aborted: int = 0
    kept_by_lock: int = 0  # versions a rule would remove that object lock keeps


class Lifecycles:
    """Set, read and apply buckets' lifecycle rules."""

    def __init__(self, lake: LakeService, multipart: MultipartUploads, *, day_seconds: float = 86400.0) -> None:
        self._lake = lake
        self._multipart = multipart
        self._day_seconds = day_seconds

    def configure(self, bucket: str, rules: list[Rule] | None) -> None:
        """Replace the bucket's rules (None: remove its lifecycle configuration)."""
        value = None if rules is None else rules_to_json(check_rules(rules))
        with self._lake.store.begin() as db:
            records.get_bucket(db, bucket)
            db.execute(update(buckets).where(buckets.c.name == bucket).values(lifecycle=value))

    def rules(self, bucket: str) -> list[Rule]:
        """The bucket's rules; NoSuchLifecycleConfiguration when it has none."""
        with self._lake.store.read() as db:
            records.get_bucket(db, bucket)
            found = db.execute(select(buckets.c.lifecycle).where(buckets.c.name == bucket)).scalar()
        rules = rules_from_json(found)
        if rules is None:
            raise NoSuchLifecycleConfiguration("The lifecycle configuration does not exist")
        return rules

    def apply(self) -> Applied:
        """One pass over every bucket with enabled rules."""
        with self._lake.store.read() as db:
            configured = list(
                db.execute(select(buckets.c.name, buckets.c.lifecycle).where(buckets.c.lifecycle.is_not(None)))
            )
        applied = Applied()
        for name, value in configured:
            rules = [rule for rule in rules_from_json(value) or [] if rule.enabled]
            if rules:
                self._apply_bucket(name, rules, applied)
        return applied

    def _apply_bucket(self, bucket: str, rules: list[Rule], applied: Applied) -> None:
        clock = Clock(self._lake.clock.now(), self._day_seconds)
        with contextlib.suppress(NoSuchBucket):
            for versions in self._keys(bucket):
                self._apply_key(bucket, versions, rules, clock, applied)
            for upload in self._multipart.list_uploads(bucket):
                days = [
                    r.abort_upload_days for r in rules if r.abort_upload_days and upload.key.startswith(r.filter.prefix)
                ]
                if days and clock.days_since(upload.created_at) >= min(days):
                    self._multipart.abort(bucket, upload.key, upload.upload_id)
                    applied.uploads_aborted += 1

    def _keys(self, bucket: str) -> Iterator[list[ObjectInfo]]:
        """Every key's versions, newest first, one key at a time."""
        group: list[ObjectInfo] = []
        key_marker = version_marker = ""
        while True:
            page = self._lake.list_versions(bucket, key_marker=key_marker, version_id_marker=version_marker)
            for info, _ in page.versions:
                if group and group[0].key != info.key:
                    yield group
                    group = []
                group.append(info)
            if not page.is_truncated:
                break
            key_marker, version_marker = page.next_key_marker, page.next_version_id_marker
        if group:
            yield group

    def _apply_key(
        self, bucket: str, versions: list[ObjectInfo], rules: list[Rule], clock: Clock, applied: Applied
    ) -> None:
        latest, older = versions[0], versions[1:]
        # A version stopped being current when the next newer one was written.
        since = [newer.last_modified for newer in versions[:-1]]
        doomed: set[int] = set()
        for rule in rules:
            matching = [i for i, info in enumerate(older) if rule.filter.matches(info.key, info.size, info.tags)]
            chosen = noncurrent_expire(rule, [since[i] for i in matching], clock)
            doomed.update(matching[i] for i in chosen)
        for index in sorted(doomed):
            if self._remove(bucket, older[index], applied):
                applied.noncurrent_removed += 1
        remaining = len(older) - len(doomed)
        if latest.delete_marker:
            lone = remaining == 0
            if lone and any(r.expired_object_delete_marker and r.filter.matches(latest.key, 0, {}) for r in rules):
                applied.delete_markers_removed += self._remove(bucket, latest, applied)
            return
        if any(
            r.filter.matches(latest.key, latest.size, latest.tags) and current_expires(r, latest.last_modified, clock)
            for r in rules
        ):
            self._lake.delete_object(bucket, latest.key)
            applied.expired += 1

    def _remove(self, bucket: str, info: ObjectInfo, applied: Applied) -> bool:
        try:
            self._lake.delete_object(bucket, info.key, version_id=info.version_id)
        except ObjectLocked:  # object lock keeps it: lifecycle never removes a locked version, as in S3
            applied.kept_by_lock += 1
            return False
        return True
