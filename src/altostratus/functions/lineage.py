"""Chains of triggered invocations, counted in the X-Amzn-Trace-Id header as Lambda's loop detection counts them.

Each invocation gets a trace header whose `Lineage` field ends in how many invocations its chain has had.
The worker sets it as `_X_AMZN_TRACE_ID`; botocore sends that as `X-Amzn-Trace-Id` on every call a handler
makes (when `AWS_LAMBDA_FUNCTION_NAME` is set), so a write back to the lake carries the count to the function
it triggers next, whose invocation counts one more. A chain stops after MAX_CHAIN_LENGTH invocations.
"""

from __future__ import annotations

import hashlib

# Lambda stops a recursive loop after about 16 invocations.
MAX_CHAIN_LENGTH = 16


def chain_length(trace_id: str) -> int:
    """How many invocations the chain carrying this trace header has had; 0 with no header or no count in it."""
    lineage = _fields(trace_id).get("Lineage", "")
    count = lineage.rsplit(":", 1)[-1]
    return int(count) if count.isdecimal() else 0


def next_link(trace_id: str, request_id: str) -> str:
    """The trace header for the invocation `request_id`, the next link of trace_id's chain (or the first).

    It keeps the chain's Root, or starts one; it is derived from its inputs alone, so queueing the same
    request again yields the same header.
    """
    digest = hashlib.sha256(request_id.encode()).hexdigest()
    root = _fields(trace_id).get("Root") or f"1-{digest[:8]}-{digest[8:32]}"
    tag = hashlib.sha256(root.encode()).hexdigest()[:8]
    return f"Root={root};Parent={digest[32:48]};Sampled=0;Lineage={tag}:{chain_length(trace_id) + 1}"


def _fields(trace_id: str) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in trace_id.split(";"))
    return {name: value for name, sep, value in pairs if sep}
