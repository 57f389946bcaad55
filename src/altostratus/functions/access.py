"""What a function's own access key may reach: the lake locations its configuration names, and no more.

By default (setting `functions_lake_access = "triggers"`), a function's key may read, write, list and delete
objects in each bucket that triggers it, by a notification or as the source of a pipeline it preprocesses for
(its input; outputs usually go beside it under another prefix, as the seed's raw/ -> clean/), and write under
its dead-letter location. Its access policy, an IAM-style
document kept with the function (`alto functions access set`), widens that with Allow statements or narrows it
with Deny ones; `functions_lake_access = "all"` lets every function's key reach every bucket, as before this rule.

The same policy decides whether the key may invoke an execute-api route (`execute-api:Invoke` on the route's
ARN). The key's role still caps what it can ever call (auth/keys.py): a function never manages buckets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from altostratus.auth import policy
from altostratus.auth.policy import Statement
from altostratus.core.clock import Clock
from altostratus.functions.dead_letters import lake_location
from altostratus.functions.registry import FunctionRegistry

# A change of triggers or policy reaches the request path within this many seconds (on every gateway process).
CACHE_SECONDS = 2.0
LAKE_ACCESS = ("triggers", "all")
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
)
BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation")

# A function's name -> the buckets whose notification rules invoke it.
TriggerBuckets = Callable[[str], Iterable[str]]


class FunctionAccess:
    """Answers, for a function's access key, whether an action on a resource is allowed."""

    def __init__(
        self, registry: FunctionRegistry, trigger_buckets: TriggerBuckets, clock: Clock, *, lake_access: str
    ) -> None:
        if lake_access not in LAKE_ACCESS:
            raise ValueError(f"lake_access={lake_access!r}; expected one of {list(LAKE_ACCESS)}")
        self._registry = registry
        self._trigger_buckets = trigger_buckets
        self._clock = clock
        self._everything = lake_access == "all"
        self._cache: dict[str, tuple[float, tuple[Statement, ...]]] = {}
        self._lock = threading.Lock()
        registry.on_change(self._forget)

    def allows(self, access_key_id: str, action: str, resource: str) -> bool:
        """Whether the function that owns this key may take the action on the resource (an ARN)."""
        return policy.allows(self.statements(access_key_id), action, resource)

    def statements(self, access_key_id: str) -> tuple[Statement, ...]:
        """The key's statements: the defaults its configuration gives, then its access policy's."""
        now = self._clock.monotonic()
        with self._lock:
            hit = self._cache.get(access_key_id)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        found = self._registry.owner_of_key(access_key_id)
        statements = () if found is None else self._compose(*found)
        with self._lock:
            self._cache[access_key_id] = (now, statements)
        return statements

    def _compose(self, name: str, document: Mapping[str, Any] | None) -> tuple[Statement, ...]:
        granted: list[Statement] = []
        if self._everything:
            granted.append(policy.allow(["s3:*"], ["*"]))
        for bucket in sorted(set(self._trigger_buckets(name))):
            granted.append(policy.allow(OBJECT_ACTIONS, [f"arn:aws:s3:::{bucket}/*"]))
            granted.append(policy.allow(BUCKET_ACTIONS, [f"arn:aws:s3:::{bucket}"]))
        for config in self._registry.versions(name):
            location = lake_location(config.dead_letter_target)
            if location is not None:
                granted.append(policy.allow(["s3:PutObject"], [f"arn:aws:s3:::{location.bucket}/{location.prefix}*"]))
        return (*granted, *(policy.parse(document) if document else ()))

    def _forget(self) -> None:
        with self._lock:
            self._cache.clear()
