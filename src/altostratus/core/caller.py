"""Who sent a request, as every service records it."""

from __future__ import annotations

import dataclasses

ANONYMOUS = "anonymous"


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who asked: the principal (an access key id, or "anonymous"), the user its key belongs to (None: the
    account's own key, or no key), their address, the request id and its trace header.

    trace_id is the request's X-Amzn-Trace-Id (boto3 inside a function sends its invocation's one): it goes
    with the event to the triggered function, which is how chains of functions are counted and cut.
    """

    principal_id: str = ANONYMOUS
    source_ip: str = "127.0.0.1"
    request_id: str = ""
    trace_id: str = ""
    user_name: str | None = None

    @property
    def anonymous(self) -> bool:
        """Whether no key signed the request."""
        return self.principal_id == ANONYMOUS
