"""Data for the Amazon ML API tests and the predict benchmark: Adult, Abalone (../shared/data), wine (scikit-learn).

Adult's income (`>50K`, `<=50K`, with a trailing dot in the test file) becomes the 1/0 target Amazon ML's
BINARY models need, and a header is added: the small preprocessing step a user would run before upload.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklearn.datasets import load_wine

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tabular"
ADULT_COLUMNS = (
    "age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,race,sex,"
    "capital-gain,capital-loss,hours-per-week,native-country,income"
)
DONE = ("COMPLETED", "FAILED", "DELETED")


def adult_csv(folder: Path, split: str) -> str:
    """Adult's `train` or `test` split as CSV with a header and income as 1/0."""
    lines = [ADULT_COLUMNS]
    for line in (folder / f"adult-{split}.csv").read_text().splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == 15:
            fields[-1] = "1" if fields[-1].startswith(">50K") else "0"
            lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def wine_csv() -> str:
    """scikit-learn's wine data (178 rows, 13 numbers, 3 cultivars) as CSV with a header; target `cultivar`."""
    data = load_wine()
    header = ",".join([name.replace("/", "_") for name in data.feature_names] + ["cultivar"])
    rows = [",".join([*map(str, row), f"class_{t}"]) for row, t in zip(data.data, data.target, strict=True)]
    return "\n".join([header, *rows]) + "\n"


def split(begin: float, end: float, *, complement: bool = False, seed: str | None = None) -> str:
    """A DataRearrangement: rows from begin to end percent (their complement), in file order or at random."""
    splitting: dict[str, Any] = {"percentBegin": begin, "percentEnd": end, "complement": complement}
    if seed is not None:
        splitting |= {"strategy": "random", "strategyParams": {"randomSeed": seed}}
    return json.dumps({"splitting": splitting})


def wait(get: Callable[..., dict[str, Any]], timeout: float = 300, **key: str) -> dict[str, Any]:
    """Poll a Get* operation until the entity is COMPLETED, FAILED or DELETED; its last description."""
    deadline = time.monotonic() + timeout
    while True:
        entity = get(**key)
        if entity["Status"] in DONE:
            return entity
        if time.monotonic() > deadline:
            raise TimeoutError(f"{key} still {entity['Status']} after {timeout} s: {entity.get('Message')}")
        time.sleep(0.2)
