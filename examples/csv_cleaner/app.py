"""csv-cleaner: raw CSV dropped under raw/ becomes cleaned, typed CSV under clean/, with a JSON report beside it.

Triggered by the lake (an S3 ObjectCreated notification for the prefix raw/). Settings, all optional, come from
the function's environment: RECODE (values to replace, `income:>50K=1,<=50K=0`), INPUT_PREFIX (raw/), OUTPUT_PREFIX (clean/), MISSING (comma-separated markers that
mean "no value", replacing the built-in list), SCALE (none, minmax or zscore for numeric columns). A headerless
file's column names may come with the upload, as the object's `columns` metadata (comma-separated).

Running again on the same upload writes the same output keys, so a repeated delivery is harmless.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import unquote_plus

import boto3
from cleaning import MISSING, clean_csv

s3 = boto3.client("s3")


def handler(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    """Clean every object the event names; what was written for each."""
    return [clean_object(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"])) for r in event["Records"]]


def clean_object(bucket: str, key: str) -> dict[str, Any]:
    """Clean one raw object into OUTPUT_PREFIX; the report."""
    started = time.perf_counter()
    source = s3.get_object(Bucket=bucket, Key=key)
    text = source["Body"].read().decode("utf-8-sig", errors="replace")
    columns = [c for c in source.get("Metadata", {}).get("columns", "").split(",") if c.strip()]
    markers = os.environ.get("MISSING")
    missing = frozenset({"", *(m.strip() for m in markers.split(","))}) if markers is not None else MISSING
    scale = os.environ.get("SCALE", "none")
    cleaned, report = clean_csv(text, columns=columns, missing=missing, scale=scale, recode=recoding())
    output, report_key = output_keys(key)
    s3.put_object(Bucket=bucket, Key=output, Body=cleaned.encode(), ContentType="text/csv")
    report = {"source": f"s3://{bucket}/{key}", "output": f"s3://{bucket}/{output}", **report}
    report["seconds"] = round(time.perf_counter() - started, 3)
    s3.put_object(
        Bucket=bucket, Key=report_key, Body=json.dumps(report, indent=2).encode(), ContentType="application/json"
    )
    print(
        f"cleaned s3://{bucket}/{key}: {report['rows_out']} rows kept, {report['malformed_rows']} malformed dropped"
        f" -> s3://{bucket}/{output}"
    )
    return report


def recoding() -> dict[str, dict[str, str]]:
    """RECODE, e.g. `income:>50K=1,<=50K=0;sex:Male=1,Female=0`, as {column: {value: new value}}."""
    found: dict[str, dict[str, str]] = {}
    for part in filter(None, os.environ.get("RECODE", "").split(";")):
        column, _, pairs = part.partition(":")
        found[column.strip()] = dict(pair.rsplit("=", 1) for pair in pairs.split(",") if "=" in pair)
    return found


def output_keys(key: str) -> tuple[str, str]:
    """Where the clean CSV and its report go: raw/a/b.txt -> clean/a/b.csv and clean/a/b.report.json."""
    inputs, outputs = os.environ.get("INPUT_PREFIX", "raw/"), os.environ.get("OUTPUT_PREFIX", "clean/")
    relative = key[len(inputs) :] if key.startswith(inputs) else key
    stem = relative.rsplit(".", 1)[0] if "." in relative.rsplit("/", 1)[-1] else relative
    return f"{outputs}{stem}.csv", f"{outputs}{stem}.report.json"
