"""Batch predictions: a datasource's rows streamed through a Predictor into CSV, as Amazon ML writes it.

The output has one row per input row, in order: BINARY `bestAnswer,score`; MULTICLASS one column per
class holding its score; REGRESSION `score`. When the data has a row id, a first column `tag` holds it.
The data is read with the model's types for the model's attributes; a row holding a value that is
not of its attribute's type is predicted with that value missing, and counted as an invalid record.
Scores have 6 significant digits, written as the shortest text that reads back as that number
(0.823416, 0.0000687876, 2.05371e-8); the lines are made by Arrow, a block at a time.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from altostratus.predict.arrow_csv import csv_lines, number_texts, text_values
from altostratus.predict.datasources import CsvReader, CsvSource
from altostratus.predict.errors import Cancelled, InvalidInput
from altostratus.predict.models import ModelType
from altostratus.predict.predictor import Predictor
from altostratus.predict.schema import Attribute, AttributeType, Schema
from altostratus.predict.splits import Rearrangement
from altostratus.predict.table import table_from_block
from altostratus.predict.values import ReadOptions
from altostratus.storage.blobs import BlobWriter


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """How many records were predicted, and how many of them held invalid values."""

    total_records: int
    invalid_records: int


def batch_schema(data: Schema, model: Schema) -> Schema:
    """The datasource's columns, typed as the model types its attributes; an error if the model needs a missing one."""
    model_inputs = {attribute.name: attribute.type for attribute in model.inputs}
    absent = sorted(set(model_inputs) - set(data.names))
    if absent:
        raise InvalidInput(f"the batch datasource lacks the model's attributes {absent}; it has {list(data.names)}")
    # The row id is only copied to the output, as the text it is.
    attributes = tuple(
        Attribute(a.name, AttributeType.CATEGORICAL if a.name == data.row_id else model_inputs.get(a.name, a.type))
        for a in data.attributes
    )
    excluded = tuple(name for name in data.names if name not in model_inputs and name != data.row_id)
    return Schema(attributes, row_id=data.row_id, contains_header=data.contains_header, excluded=excluded)


def write_batch(
    predictor: Predictor,
    sources: Sequence[CsvSource],
    schema: Schema,
    options: ReadOptions,
    rearrangement: Rearrangement,
    total_rows: int,
    writer: BlobWriter,
    *,
    progress: Callable[[int], None] = lambda rows: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> BatchResult:
    """Predict every row the rearrangement keeps and write gzip-compressed CSV to the writer (not committed)."""
    reader = CsvReader(sources, options, header=schema.contains_header, columns=len(schema.attributes), columnar=True)
    tags = schema.row_id
    total = invalid = 0
    with gzip.GzipFile(fileobj=_WriterFile(writer), mode="wb", compresslevel=1, mtime=0) as compressed:
        compressed.write(_csv([_header(predictor, schema)]))
        for block in reader.blocks():
            if cancelled():
                raise Cancelled("the batch prediction was cancelled")
            keep = rearrangement.mask(total_rows, start=block.first_row, count=len(block))
            if not keep.all():
                block = block.select(keep)
            if not len(block):
                continue
            table, bad = table_from_block(schema, block, options.missing_markers)
            # A block's CSV is made in C and goes to gzip in one write.
            compressed.write(_lines(predictor, table.columns[tags] if tags else None, predictor.scores(table)))
            total += len(block)
            invalid += len(bad)
            progress(total)
    return BatchResult(total, invalid)


def _csv(rows: Iterable[Sequence[object]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


def _header(predictor: Predictor, schema: Schema) -> list[str]:
    tag = ["tag"] if schema.row_id else []
    if predictor.model.model_type is ModelType.BINARY:
        return [*tag, "bestAnswer", "score"]
    if predictor.model.model_type is ModelType.MULTICLASS:
        return [*tag, *predictor.model.classes]
    return [*tag, "score"]


def _lines(predictor: Predictor, tags: np.ndarray | None, scores: np.ndarray) -> bytes:
    model_type = predictor.model.model_type
    if model_type is ModelType.BINARY:
        columns = [text_values(predictor.labels(scores)), number_texts(scores)]
    elif model_type is ModelType.MULTICLASS:
        columns = [number_texts(scores[:, k]) for k in range(scores.shape[1])]
    else:
        columns = [number_texts(scores)]
    if tags is not None:
        columns.insert(0, text_values(tags.tolist()))
    return csv_lines(columns)


class _WriterFile(io.RawIOBase):
    """A write-only file over a BlobWriter, for gzip."""

    def __init__(self, writer: BlobWriter) -> None:
        self._writer = writer

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._writer.write(bytes(data))
        return len(data)
