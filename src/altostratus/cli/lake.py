"""`alto lake`: buckets and objects on a running server (local or remote), over the S3 API with boto3."""

from __future__ import annotations

import dataclasses
import mimetypes
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from altostratus.cli.options import (
    json_option,
    service_client,
    with_clients,
)
from altostratus.cli.output import CommandFailed, format_time, print_json, print_table, progress

LAKE_SCHEME = "s3://"
# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000

# One CopyObject up to its 5 GiB limit: the server copies without moving bytes over the network,
# and servers without UploadPartCopy still work.
SINGLE_REQUEST_COPY = TransferConfig(multipart_threshold=5 * 1024**3)

S3Client = Any  # boto3 clients are built at run time and carry no static types


def is_lake_url(text: str) -> bool:
    """Whether text names a place in the lake rather than a local path."""
    return text.startswith(LAKE_SCHEME)


def parse_lake_url(url: str) -> tuple[str, str]:
    """The (bucket, key) named by s3://BUCKET[/KEY]; the key is '' when absent. ValueError otherwise."""
    if not is_lake_url(url):
        raise ValueError(f"{url!r} is not a lake URL; expected s3://BUCKET[/KEY]")
    bucket, _, key = url[len(LAKE_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket; expected s3://BUCKET[/KEY]")
    bad = sorted({c for c in bucket if not (c.isascii() and (c.isalnum() or c in ".-_"))})
    if bad:
        raise ValueError(
            f"bucket {bucket!r} in {url!r} has characters {bad}; expected letters, digits, '.', '-' and '_'"
        )
    return bucket, key


def lake_url(bucket: str, key: str = "") -> str:
    """The s3:// URL of a bucket or an object."""
    return f"{LAKE_SCHEME}{bucket}/{key}" if key else f"{LAKE_SCHEME}{bucket}"


def lake_url_argument(
    name: str, metavar: str, *, required: bool = True, bucket_only: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click argument holding s3://BUCKET[/KEY], handed to the command as (bucket, key)."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, str] | None:
        if value is None:
            return None
        try:
            bucket, key = parse_lake_url(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
        if bucket_only and key.strip("/"):
            raise click.BadParameter(f"{value!r} names an object; expected s3://BUCKET", ctx, param)
        return bucket, key

    return click.argument(name, metavar=metavar, required=required, callback=convert)


def make_client(endpoint_url: str | None, data_dir: Path | None) -> S3Client:
    """A boto3 S3 client for the server at endpoint_url (default: the one the settings describe)."""
    # Path-style addressing: the server is one host, not a wildcard DNS name per bucket.
    client: S3Client = service_client("s3", endpoint_url, data_dir, s3={"addressing_style": "path"})
    return client


# make_client is looked up when a command runs, so tests can replace it.
with_client = with_clients(lambda endpoint_url, data_dir: (make_client(endpoint_url, data_dir),))


@click.group()
def lake() -> None:
    """Buckets and objects, on the server at --endpoint-url."""


@lake.command("mb")
@lake_url_argument("url", "s3://BUCKET", bucket_only=True)
@with_client
def make_bucket(s3: S3Client, url: tuple[str, str]) -> None:
    """Make a bucket."""
    bucket, _ = url
    region = s3.meta.region_name
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    click.echo(f"make_bucket: {bucket}")


@lake.command("rb")
@lake_url_argument("url", "s3://BUCKET", bucket_only=True)
@with_client
def remove_bucket(s3: S3Client, url: tuple[str, str]) -> None:
    """Remove an empty bucket."""
    bucket, _ = url
    s3.delete_bucket(Bucket=bucket)
    click.echo(f"remove_bucket: {bucket}")


@lake.command("ls")
@lake_url_argument("url", "[s3://BUCKET[/PREFIX]]", required=False)
@click.option("--recursive", is_flag=True, help="List every object under the prefix, not one level.")
@json_option
@with_client
def list_lake(s3: S3Client, url: tuple[str, str] | None, recursive: bool, as_json: bool) -> None:
    """List buckets, or the objects and common prefixes under s3://BUCKET/PREFIX."""
    if url is None:
        _list_buckets(s3, as_json)
    else:
        _list_objects(s3, *url, recursive=recursive, as_json=as_json)


def _list_buckets(s3: S3Client, as_json: bool) -> None:
    buckets = s3.list_buckets().get("Buckets", [])
    if as_json:
        print_json({"Buckets": [{"Name": b["Name"], "CreationDate": b["CreationDate"]} for b in buckets]})
        return
    rows = [(format_time(b["CreationDate"]), b["Name"]) for b in buckets]
    print_table(rows, headers=("CreationDate", "Name"))


def _list_objects(s3: S3Client, bucket: str, prefix: str, *, recursive: bool, as_json: bool) -> None:
    query = {"Bucket": bucket, "Prefix": prefix} | ({} if recursive else {"Delimiter": "/"})
    prefixes: list[str] = []
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(**query):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        objects += page.get("Contents", [])
    if as_json:
        print_json(
            {
                "Bucket": bucket,
                "Prefix": prefix,
                "CommonPrefixes": prefixes,
                "Objects": [{k: o[k] for k in ("Key", "Size", "LastModified", "ETag") if k in o} for o in objects],
            }
        )
        return
    # One level shows names relative to the listed "folder", as `aws s3 ls` does.
    shown_from = 0 if recursive else prefix.rfind("/") + 1
    rows: list[tuple[str, str | int, str]] = [("", "PRE", p[shown_from:]) for p in prefixes]
    rows += [(format_time(o["LastModified"]), o["Size"], o["Key"][shown_from:]) for o in objects]
    print_table(rows, headers=("LastModified", "Size", "Key"))


@dataclasses.dataclass(frozen=True)
class Transfer:
    """One object to move: each side a local path or an s3:// URL."""

    source: str
    destination: str
    size: int


@lake.command("cp")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.option("--recursive", is_flag=True, help="Copy a whole directory or prefix.")
@json_option
@with_client
def copy_objects(s3: S3Client, source: str, destination: str, recursive: bool, as_json: bool) -> None:
    """Copy a local file or directory to the lake, from it, or within it."""
    if not (is_lake_url(source) or is_lake_url(destination)):
        raise click.UsageError("SRC or DST must be an s3:// URL; for local copies use cp")
    transfers = plan_transfers(s3, source, destination, recursive=recursive)
    for transfer in transfers:
        run_transfer(s3, transfer)
        if not as_json:
            click.echo(f"{_verb(transfer)}: {transfer.source} to {transfer.destination}")
    if as_json:
        print_json(
            {
                "Transfers": [{"Source": t.source, "Destination": t.destination, "Bytes": t.size} for t in transfers],
                "Objects": len(transfers),
                "Bytes": sum(t.size for t in transfers),
            }
        )


def plan_transfers(s3: S3Client, source: str, destination: str, *, recursive: bool) -> list[Transfer]:
    """Every object `cp` moves, with where each lands."""
    items = _lake_sources(s3, source, recursive) if is_lake_url(source) else _local_sources(source, recursive)
    return [Transfer(item, _destination(destination, name, into=recursive), size) for item, name, size in items]


def _local_sources(source: str, recursive: bool) -> Iterator[tuple[str, str, int]]:
    """(path, name relative to SRC, size) of each file to send."""
    root = Path(source)
    if not recursive:
        if root.is_dir():
            raise click.UsageError(f"{source!r} is a directory; add --recursive to copy it")
        yield source, root.name, root.stat().st_size
        return
    if not root.is_dir():
        raise click.UsageError(f"--recursive copies a directory; {source!r} is not one")
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder, name)
            yield str(path), path.relative_to(root).as_posix(), path.stat().st_size


def _lake_sources(s3: S3Client, source: str, recursive: bool) -> Iterator[tuple[str, str, int]]:
    """(s3:// URL, name relative to SRC, size) of each object to fetch."""
    bucket, key = parse_lake_url(source)
    if not recursive:
        if not key or key.endswith("/"):
            raise click.UsageError(f"{source!r} names no object; give a key, or add --recursive")
        return iter([(source, key.rsplit("/", 1)[-1], _object_size(s3, bucket, key))])
    prefix = _as_folder(key)
    return (
        (lake_url(bucket, obj["Key"]), obj["Key"][len(prefix) :], obj["Size"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
        if not obj["Key"].endswith("/")
    )


def _object_size(s3: S3Client, bucket: str, key: str) -> int:
    try:
        return int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except ClientError as exc:
        # HEAD answers carry no body, so the error code is just "404".
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            raise CommandFailed(f"NoSuchKey: {lake_url(bucket, key)} does not exist") from None
        raise


def _destination(destination: str, name: str, *, into: bool) -> str:
    """Where an object named name lands: DST itself, or inside it when DST is a folder."""
    if is_lake_url(destination):
        bucket, key = parse_lake_url(destination)
        if into or not key or key.endswith("/"):
            key = _as_folder(key) + name
        return lake_url(bucket, key)
    into = into or destination.endswith(os.sep) or Path(destination).is_dir()
    if not into:
        return destination
    root = Path(destination).resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or target == root:
        raise CommandFailed(f"object name {name!r} would land outside {destination!r}; not copying it")
    return str(target)


def _as_folder(key: str) -> str:
    return key if not key or key.endswith("/") else key + "/"


def run_transfer(s3: S3Client, transfer: Transfer) -> None:
    """Move one object, with a progress bar when it is large and stderr is a terminal."""
    with progress(transfer.size, Path(transfer.destination).name) as callback:
        if not is_lake_url(transfer.source):
            bucket, key = parse_lake_url(transfer.destination)
            content_type = mimetypes.guess_type(transfer.source)[0] or "application/octet-stream"
            s3.upload_file(transfer.source, bucket, key, ExtraArgs={"ContentType": content_type}, Callback=callback)
        elif not is_lake_url(transfer.destination):
            Path(transfer.destination).parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(*parse_lake_url(transfer.source), transfer.destination, Callback=callback)
        else:
            bucket, key = parse_lake_url(transfer.source)
            s3.copy(
                {"Bucket": bucket, "Key": key},
                *parse_lake_url(transfer.destination),
                Callback=callback,
                Config=SINGLE_REQUEST_COPY,
            )


def _verb(transfer: Transfer) -> str:
    if not is_lake_url(transfer.source):
        return "upload"
    return "copy" if is_lake_url(transfer.destination) else "download"


@lake.command("rm")
@lake_url_argument("url", "s3://BUCKET/KEY")
@click.option("--recursive", is_flag=True, help="Remove every object under the prefix.")
@json_option
@with_client
def remove(s3: S3Client, url: tuple[str, str], recursive: bool, as_json: bool) -> None:
    """Remove an object, or with --recursive every object under a prefix."""
    bucket, key = url
    if recursive:
        deleted = _remove_prefix(s3, bucket, _as_folder(key))
    elif not key:
        raise click.UsageError(f"{lake_url(bucket)!r} names no object; give a key, or add --recursive")
    else:
        s3.delete_object(Bucket=bucket, Key=key)
        deleted = [key]
    if as_json:
        print_json({"Deleted": [lake_url(bucket, k) for k in deleted]})
        return
    for k in deleted:
        click.echo(f"delete: {lake_url(bucket, k)}")


def _remove_prefix(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    deleted: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [obj["Key"] for obj in page.get("Contents", [])]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise CommandFailed(
                    f"{first.get('Code')}: {first.get('Message')} ({lake_url(bucket, first.get('Key', ''))}"
                    f"; {len(errors)} of {len(batch)} objects not deleted)"
                )
            deleted += batch
    return deleted
