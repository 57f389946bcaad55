"""Who sent a request, as every service records it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who asked, for event records: the principal, their address, the request id and its trace header.

    trace_id is the request's X-Amzn-Trace-Id (boto3 inside a function sends its invocation's one): it goes
    with the event to the triggered function, which is how chains of functions are counted and cut.
    """

    principal_id: str = "anonymous"
    source_ip: str = "127.0.0.1"
    request_id: str = ""
    trace_id: str = ""
