"""Choosing the variant that answers a request: by target, by session, or at random by weight.

- A target variant (SageMaker's TargetVariant) wins over everything, whatever its weight.
- A session id always reaches the same variant while the weights stay as they are: weighted
  rendezvous hashing scores every variant by `weight / -ln(u)`, u being a hash of (session, variant)
  mapped into (0, 1), and picks the highest score. Each variant wins a share of sessions equal to its
  share of the weight, and a weight change only moves sessions to or from the variants whose weight
  changed (a 10-point canary step moves 10% of the sessions, no more). No state is kept per session.
- Anything else is drawn at random in proportion to the weights.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import math
from collections.abc import Callable, Sequence

from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.hosting import Variant

_HASH_SPAN = float(2**64)


@dataclasses.dataclass(frozen=True)
class Routes:
    """An endpoint's production variants with their weights, and its shadow variants."""

    endpoint: str
    names: tuple[str, ...]
    weights: tuple[float, ...]
    shadows: tuple[str, ...]
    cumulative: tuple[float, ...] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cumulative", tuple(itertools.accumulate(self.weights)))

    @classmethod
    def of(cls, endpoint: str, variants: Sequence[Variant]) -> Routes:
        """The routes over an endpoint's variants (current weights)."""
        production = [v for v in variants if not v.shadow]
        return cls(
            endpoint,
            tuple(v.name for v in production),
            tuple(v.current_weight for v in production),
            tuple(v.name for v in variants if v.shadow),
        )

    @property
    def total(self) -> float:
        """The sum of the production weights."""
        return self.cumulative[-1] if self.cumulative else 0.0

    def pick(self, *, target: str | None = None, session: str | None = None, draw: Callable[[], float]) -> str:
        """The production variant for a request: its target, its session's, or one drawn by weight."""
        if target is not None:
            return self._target(target)
        if self.total <= 0:
            raise InvalidValue(
                f"every production variant of endpoint {self.endpoint!r} has weight 0; give one a weight or "
                "name a TargetVariant"
            )
        if session is not None:
            return self.sticky(session)
        index = bisect.bisect_right(self.cumulative, draw() * self.total)
        # draw() < 1, but rounding can land exactly on the total; zero-weight variants are never drawn.
        return self.names[min(index, len(self.names) - 1)]

    def sticky(self, session: str) -> str:
        """The variant a session id maps to (weighted rendezvous hashing)."""
        best, best_score = self.names[0], -1.0
        key = session.encode()
        for name, weight in zip(self.names, self.weights, strict=True):
            if weight <= 0:
                continue
            digest = hashlib.blake2b(key + b"\0" + name.encode(), digest_size=8).digest()
            unit = (int.from_bytes(digest, "big") + 0.5) / _HASH_SPAN
            score = weight / -math.log(unit)
            if score > best_score:
                best, best_score = name, score
        return best

    def _target(self, target: str) -> str:
        if target in self.names:
            return target
        if target in self.shadows:
            raise InvalidValue(
                f"TargetVariant={target!r} is a shadow variant of endpoint {self.endpoint!r}, which answers no "
                f"requests; expected one of {list(self.names)}"
            )
        raise InvalidValue(
            f"TargetVariant={target!r} is not a variant of endpoint {self.endpoint!r}; expected one of "
            f"{list(self.names)}"
        )
