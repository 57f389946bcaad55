"""Ground truth fed back: CSV outcomes (InferenceId,label) from the CLI or dropped into the lake.

Outcome files go to `s3://alto-outcomes/<endpoint>/<any name>` (any S3 client can write them). The
server polls the bucket every few seconds and reads each new file, and a file again when its ETag
changes; an outcome for an inference id that already has one replaces it. A file that cannot be read
is remembered with its problem, so it is not read again until it changes. Outcomes may arrive before
or after their predictions are logged: they are joined when statistics are read.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import Protocol

from altostratus.core.clock import Clock
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.hosting import NAME_PATTERN
from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.service import LakeService

log = logging.getLogger(__name__)
OUTCOMES_BUCKET = "alto-outcomes"
MAX_ID_LENGTH = 80
MAX_LABEL_LENGTH = 256
HEADER_NAMES = frozenset({"inferenceid", "inference_id", "inference-id"})


class ObjectSource(Protocol):
    """The objects of a bucket and their bytes."""

    def objects(self, bucket: str) -> Iterator[tuple[str, str]]:
        """(key, ETag) of every object in the bucket; none if the bucket does not exist."""
        ...

    def read(self, bucket: str, key: str) -> bytes:
        """The object's bytes."""
        ...


class LakeObjects:
    """The lake as an ObjectSource."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def objects(self, bucket: str) -> Iterator[tuple[str, str]]:
        """(key, ETag) of every object in the bucket, page by page."""
        after = ""
        while True:
            try:
                page = self._lake.list_objects(bucket, after=after)
            except NoSuchBucket:
                return
            for info in page.objects:
                yield info.key, info.etag
            if not page.is_truncated or not page.objects:
                return
            after = page.objects[-1].key

    def read(self, bucket: str, key: str) -> bytes:
        """The object's bytes."""
        return b"".join(self._lake.read(self._lake.head(bucket, key)))


def parse_outcomes(text: str, source: str) -> list[tuple[str, str]]:
    """(inference id, label) pairs from CSV lines `InferenceId,label`; a header line is skipped."""
    outcomes = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in HEADER_NAMES:
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise InvalidValue(f"{source} line {number} is {row!r}; expected InferenceId,label")
        if len(cells[0]) > MAX_ID_LENGTH or len(cells[1]) > MAX_LABEL_LENGTH:
            raise InvalidValue(
                f"{source} line {number}: inference ids take at most {MAX_ID_LENGTH} characters and labels "
                f"{MAX_LABEL_LENGTH}"
            )
        outcomes.append((cells[0], cells[1]))
    return outcomes


class OutcomeFeed:
    """Takes outcomes from callers and from outcome files in the lake."""

    def __init__(
        self, store: ExperimentStore, objects: ObjectSource, clock: Clock, *, bucket: str = OUTCOMES_BUCKET
    ) -> None:
        self._store = store
        self._objects = objects
        self._clock = clock
        self.bucket = bucket

    def put(self, endpoint: str, text: str, source: str) -> int:
        """Record the outcomes in CSV text for an endpoint; how many."""
        outcomes = parse_outcomes(text, source)
        return self._store.put_outcomes(endpoint, outcomes, source, self._clock.now())

    def poll(self) -> int:
        """Read the outcome files that are new or changed since the last poll; how many outcomes they gave."""
        seen = self._store.outcome_files_seen(self.bucket)
        total = 0
        for key, etag in list(self._objects.objects(self.bucket)):
            if seen.get(key) == etag:
                continue
            source = f"s3://{self.bucket}/{key}"
            rows, problem = 0, ""
            try:
                endpoint = _endpoint_of(key)
                text = self._objects.read(self.bucket, key).decode("utf-8-sig")
                rows = self.put(endpoint, text, source)
            except (InvalidValue, UnicodeDecodeError) as error:
                problem = getattr(error, "message", None) or str(error)
                log.warning("outcome file %s not read: %s", source, problem)
            self._store.mark_outcome_file(self.bucket, key, etag, rows, problem, self._clock.now())
            total += rows
        return total


def _endpoint_of(key: str) -> str:
    endpoint, slash, _ = key.partition("/")
    if not slash or not NAME_PATTERN.fullmatch(endpoint):
        raise InvalidValue(f"outcome file {key!r} is not under an endpoint's folder; expected ENDPOINT/NAME.csv")
    return endpoint
