"""Amazon ML's DataRearrangement: which part of the data a datasource keeps.

    {"splitting": {"percentBegin": 0, "percentEnd": 70, "complement": false,
                   "strategy": "random", "strategyParams": {"randomSeed": "s3://bucket/data.csv"}}}

`sequential` keeps the rows from percentBegin to percentEnd of the data in file order. `random` gives
each row a pseudo-random number from 0 to 100 drawn from the seed string and the row's position, and
keeps the rows whose number lies in [percentBegin, percentEnd). Amazon ML seeds with the row's byte
offset; the row's ordinal number serves the same purpose (the same file and seed always give the same
split, and a different file a different one) and needs no byte bookkeeping. `complement` keeps the
other rows, so two datasources with the same range, one with complement, split the data without overlap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from altostratus.core import json_input
from altostratus.predict.errors import InvalidInput
from altostratus.predict.schema import parse_bool

STRATEGIES = ("sequential", "random")
SPLITTING_KEYS = frozenset({"percentBegin", "percentEnd", "complement", "strategy", "strategyParams", "randomSeed"})
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclasses.dataclass(frozen=True)
class Rearrangement:
    """A split of the data: the percent range kept, whether to keep its complement, and how rows are ordered."""

    percent_begin: float = 0.0
    percent_end: float = 100.0
    complement: bool = False
    strategy: str = "sequential"
    seed: str = ""

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidInput(f"Unknown strategy type: {self.strategy!r}, expected one of {list(STRATEGIES)}.")
        for field in ("percent_begin", "percent_end"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                raise InvalidInput(f"DataRearrangement {_camel(field)}={value!r}; expected a number from 0 to 100")
        if self.percent_begin > self.percent_end:
            raise InvalidInput(
                f"DataRearrangement percentBegin={self.percent_begin!r} is above percentEnd={self.percent_end!r}"
            )

    @property
    def is_everything(self) -> bool:
        """True when every row is kept."""
        whole = self.percent_begin == 0 and self.percent_end == 100
        empty = self.percent_begin == self.percent_end
        return (whole and not self.complement) or (empty and self.complement)

    def mask(self, rows: int, *, start: int = 0, count: int | None = None) -> npt.NDArray[np.bool_]:
        """Which rows of data with `rows` rows the datasource keeps, for the `count` rows from `start` (all)."""
        ordinals = np.arange(start, start + (rows - start if count is None else count), dtype=np.uint64)
        if self.strategy == "sequential":
            position = ordinals.astype(np.float64) * 100.0 / max(rows, 1)
        else:
            position = _random_percent(self.seed, ordinals)
        inside = (position >= self.percent_begin) & (position < self.percent_end)
        return ~inside if self.complement else inside

    def to_json(self) -> str:
        """The split as a DataRearrangement JSON string."""
        splitting: dict[str, Any] = {
            "percentBegin": self.percent_begin,
            "percentEnd": self.percent_end,
            "complement": self.complement,
            "strategy": self.strategy,
        }
        if self.strategy == "random":
            splitting["strategyParams"] = {"randomSeed": self.seed}
        return json.dumps({"splitting": splitting})

    @classmethod
    def from_json(cls, text: str | None) -> Rearrangement:
        """Read a DataRearrangement JSON string (None or empty: all the data)."""
        if not text:
            return cls()
        try:
            document = json_input.loads(text)
        except ValueError as error:
            raise InvalidInput(f"DataRearrangement is not valid JSON: {error}") from None
        if (
            not isinstance(document, dict)
            or set(document) != {"splitting"}
            or not isinstance(document["splitting"], dict)
        ):
            raise InvalidInput(f'DataRearrangement={text!r}; expected {{"splitting": {{...}}}}')
        return cls._from_splitting(document["splitting"])

    @classmethod
    def _from_splitting(cls, splitting: Mapping[str, Any]) -> Rearrangement:
        unknown = sorted(set(splitting) - SPLITTING_KEYS)
        if unknown:
            raise InvalidInput(
                f"DataRearrangement splitting has unknown fields {unknown}; expected {sorted(SPLITTING_KEYS)}"
            )
        params = splitting.get("strategyParams", {})
        if not isinstance(params, dict) or not set(params) <= {"randomSeed"}:
            raise InvalidInput(f'DataRearrangement strategyParams={params!r}; expected {{"randomSeed": "..."}}')
        seed = params.get("randomSeed", splitting.get("randomSeed", ""))
        if not isinstance(seed, str):
            raise InvalidInput(f"DataRearrangement randomSeed={seed!r}; expected a string")
        return cls(
            percent_begin=splitting.get("percentBegin", 0),
            percent_end=splitting.get("percentEnd", 100),
            complement=parse_bool("DataRearrangement complement", splitting.get("complement")),
            strategy=splitting.get("strategy", "sequential"),
            seed=seed,
        )


def _random_percent(seed: str, ordinals: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """A pseudo-random number in [0, 100) for each row ordinal, from the seed (splitmix64 of seed ^ ordinal)."""
    key = np.uint64(int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "little"))
    z = (ordinals ^ key) + np.uint64(0x9E3779B97F4A7C15)
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53) * 100.0


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)
