"""One frozen settings object, built from an injected environment mapping and an optional alto.toml."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from altostratus.core.errors import ConfigurationError

# 8340 is free of the ports the AWS emulators use (LocalStack 4566, moto 5000, MinIO 9000),
# so Altostratus can run beside any of them.
DEFAULT_PORT = 8340
SANDBOX_UIDS = 65536
ENV_PREFIX = "ALTO_"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """Where data lives when nothing says otherwise: $XDG_DATA_HOME/altostratus, as desktop tools do."""
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".local/share")
    return Path(base) / "altostratus"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the platform can be told; immutable once built."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    database_url: str = ""
    lake_backend: str = "file"
    lake_s3_endpoint: str = ""
    lake_s3_access_key: str = ""
    lake_s3_secret_key: str = ""
    lake_s3_region: str = "us-east-1"
    # fsync every object before it becomes visible, so a power cut cannot lose an acknowledged write.
    # Turning it off trades that for small-object throughput (SeaweedFS and MinIO's defaults do not fsync).
    lake_fsync: bool = True
    # Objects of at most this many bytes keep them in the metadata store beside their row: one transaction and one
    # fsync, shared by concurrent PUTs, store one whole (MinIO inlines under 128 KiB too). 0: every object is a file.
    lake_inline_bytes: int = 128 * 1024
    # Customer-provided keys (SSE-C) are taken only over TLS, as S3 takes them; this lets plain HTTP carry them
    # too (loopback tests, a network one trusts).
    lake_sse_c_over_http: bool = False
    # The addresses of TLS proxies in front of this plain-HTTP server (comma-separated IPs or networks, or "*"):
    # only their X-Forwarded-Proto (is the request https?) and X-Forwarded-For are believed; empty: nobody's are.
    trusted_proxies: str = ""
    # Lifecycle rules are applied by a job this often; their "days" are this many seconds long (tests shorten it).
    lake_lifecycle_interval_seconds: float = 3600.0
    lake_lifecycle_day_seconds: float = 86400.0
    auth: bool = True
    max_request_bytes: int = 5 * 1024**3
    max_clock_skew_seconds: int = 900
    # Requests handled at once. Past it a request is answered at once with 503 (S3's SlowDown), which botocore
    # retries after a pause, so that a flood cannot pile up work and buffered bodies (up to 6 MiB for an Invoke)
    # behind the requests running; boto3 opens at most 10 connections per client.
    max_requests_in_flight: int = 128
    # A client has this long, from opening a connection or the end of the previous answer, to send a whole
    # request line and headers; a request body or an answer may stall (no byte moving) this long.
    http_head_timeout_seconds: float = 20.0
    http_stall_timeout_seconds: float = 60.0
    job_workers: int = 2
    job_lease_seconds: int = 60
    public_url: str = ""
    # Extra `pip install` options for functions' requirements.txt, split as a shell would: for example
    # "--no-index --find-links /srv/wheelhouse" on a machine without network.
    functions_pip_args: str = ""
    # Event (asynchronous) invocations and lake triggers run on workers of their own, so a burst of events
    # never holds up other jobs. A failed event is retried twice: after this many seconds, then twice as many.
    functions_event_workers: int = 4
    functions_event_retry_seconds: float = 1.0
    # Every function invocation runs in a bubblewrap sandbox (functions/sandbox/). Off only with
    # `alto serve --insecure-functions-unsandboxed`: functions then run as this server's user, seeing all it sees.
    functions_sandbox: bool = True
    # Outbound network for every function, not only those with a VpcConfig (needs slirp4netns).
    functions_outbound_network: bool = False
    # A server run as root gives each sandbox a uid of its own from this range of 65,536, which no account uses:
    # systemd keeps 1879048192-2147483647 (0x70000000-0x7FFFFFFF) unallocated.
    functions_sandbox_uid_base: int = 1879048192
    # What a function's own key reaches: "triggers" (the buckets that trigger it, its dead-letter location and
    # what its access policy adds) or "all" (every bucket, as before keys were scoped).
    functions_lake_access: str = "triggers"
    # The most bytes of CSV one predict datasource (an object or every object under a prefix) may hold.
    predict_max_datasource_bytes: int = 1024**3
    # Image analyses (faces, labels, text) run at once; more wait for a turn. Each running one holds its own
    # copy of the models that are not thread-safe (TFLite and OpenCV's nets: tens of MB), and two cores are
    # busy with two: four keeps them busy while an image is decoded or read from the lake.
    vision_concurrency: int = 4
    # A collection is searched exactly (a matrix product) up to this many faces, and through an HNSW index past it.
    vision_exact_search_limit: int = 20_000
    # Sentences spoken at once across all speech requests; more wait for a turn. Piper's ONNX session uses both
    # cores for one sentence, so two keeps the machine busy without making any one request wait much longer.
    speech_concurrency: int = 2
    # The families a Custom Labels version trains, comma-separated, in the order they are tried (tests: nearest,linear).
    custom_labels_families: str = "nearest,linear,cnn,transfer"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"port={self.port}; expected 1..65535")
        if self.max_requests_in_flight < 1:
            raise ConfigurationError(f"max_requests_in_flight={self.max_requests_in_flight}; expected 1 or more")
        for name in ("http_head_timeout_seconds", "http_stall_timeout_seconds"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name}={getattr(self, name)}; expected a number of seconds above 0")
        for name in ("lake_lifecycle_interval_seconds", "lake_lifecycle_day_seconds"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name}={getattr(self, name)}; expected a number of seconds above 0")
        if not 0 <= self.lake_inline_bytes <= 1024 * 1024:
            raise ConfigurationError(f"lake_inline_bytes={self.lake_inline_bytes}; expected 0 to 1048576")
        if self.job_workers < 0:
            raise ConfigurationError(f"job_workers={self.job_workers}; expected 0 or more")
        if self.functions_event_workers < 1:
            raise ConfigurationError(f"functions_event_workers={self.functions_event_workers}; expected 1 or more")
        if not self.functions_event_retry_seconds >= 0:
            raise ConfigurationError(
                f"functions_event_retry_seconds={self.functions_event_retry_seconds}; expected 0 or more"
            )
        highest_base = 2**31 - 2 - SANDBOX_UIDS  # the range and the sandboxes' shared group stay below 2**31 - 1
        if not 1000 < self.functions_sandbox_uid_base <= highest_base:
            raise ConfigurationError(
                f"functions_sandbox_uid_base={self.functions_sandbox_uid_base}; expected 1001 to {highest_base}"
            )
        if self.functions_lake_access not in ("triggers", "all"):
            raise ConfigurationError(
                f"functions_lake_access={self.functions_lake_access!r}; expected one of ['triggers', 'all']"
            )
        if self.predict_max_datasource_bytes < 1:
            raise ConfigurationError(
                f"predict_max_datasource_bytes={self.predict_max_datasource_bytes}; expected 1 or more"
            )
        for name in ("vision_concurrency", "vision_exact_search_limit", "speech_concurrency"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name}={getattr(self, name)}; expected 1 or more")
        if self.lake_backend != "file" and not self.lake_backend.startswith("s3://"):
            raise ConfigurationError(
                f"lake_backend={self.lake_backend!r}; expected one of ['file', 's3://bucket[/prefix]']"
            )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'metadata.db'}"

    @property
    def endpoint_url(self) -> str:
        """The URL clients use to reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        config_file: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings: defaults, then alto.toml, then ALTO_* variables, then explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config_file or Path(env.get("ALTO_CONFIG", "alto.toml"))
        if path.is_file():
            values.update(_read_toml(path))
        values.update(_from_env(env))
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("data_dir", default_data_dir(env))
        return cls(**_coerce(values))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigurationError(f"{path}: unknown settings {unknown}; expected some of {sorted(_FIELDS)}")
    return dict(data)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    return {name: environ[ENV_PREFIX + name.upper()] for name in _FIELDS if ENV_PREFIX + name.upper() in environ}


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in _FIELDS:
            raise ConfigurationError(f"unknown setting {name!r}; expected one of {sorted(_FIELDS)}")
        kind = _FIELDS[name].type
        out[name] = _coerce_one(name, raw, str(kind))
    return out


def _coerce_one(name: str, raw: Any, kind: str) -> Any:
    if kind == "Path":
        return Path(raw).expanduser()
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{name}={raw!r}; expected a whole number") from None
    if kind == "float":
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{name}={raw!r}; expected a number") from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigurationError(f"{name}={raw!r}; expected true or false")
    return str(raw)
