"""The in-process event bus: services publish what happened, other services subscribe by topic."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

Event = Mapping[str, Any]
Handler = Callable[[str, Event], None]

log = logging.getLogger(__name__)


class EventBus:
    """Synchronous publish/subscribe; a failing subscriber is logged and never breaks the publisher."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call handler(topic, event) for every event published on topic ("*" for all)."""
        with self._lock:
            self._handlers[topic].append(handler)

    def publish(self, topic: str, event: Event) -> None:
        """Deliver event to the topic's subscribers, then to the "*" subscribers."""
        with self._lock:
            handlers = [*self._handlers.get(topic, ()), *self._handlers.get("*", ())]
        for handler in handlers:
            try:
                handler(topic, event)
            except Exception:
                log.exception("event handler %r failed on %s", handler, topic)
