"""The demo's data: UCI Adult from a file, or Adult-like rows generated when the file is absent."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
TARGET = "income"
RECODE = "income:>50K=1,>50K.=1,<=50K=0,<=50K.=0"
_EDUCATION = [("HS-grad", 9), ("Some-college", 10), ("Bachelors", 13), ("Masters", 14), ("11th", 7), ("Doctorate", 16)]
_MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated"]
_JOBS = ["Exec-managerial", "Prof-specialty", "Sales", "Craft-repair", "Adm-clerical", "Other-service", "?"]


@dataclasses.dataclass(frozen=True)
class DemoData:
    """Headerless training CSV text, held-out rows (cells) for traffic, and where they came from."""

    train_csv: str
    train_rows: int
    traffic_rows: list[list[str]]
    source: str
    synthetic: bool


def load(train_path: Path, *, rows: int | None, traffic: int, seed: int = 7) -> DemoData:
    """Adult's training rows (the first `rows`) and `traffic` test rows; generated ones if the file is absent."""
    if not train_path.exists():
        total = rows or 8000
        generated = synthetic_rows(total + traffic, seed)
        train, held_out = generated[:total], generated[total:]
        return DemoData(_csv(train), len(train), held_out, f"synthetic Adult-like rows ({train_path} is absent)", True)
    lines = [line for line in train_path.read_text().splitlines() if line.count(",") == len(COLUMNS) - 1]
    train_lines = lines[:rows] if rows else lines
    test_path = train_path.with_name("adult-test.csv")
    if test_path.exists():
        test = [line for line in test_path.read_text().splitlines() if line.count(",") == len(COLUMNS) - 1]
        source = f"{train_path} (traffic from {test_path.name})"
    else:
        test = lines[len(train_lines) :]
        source = f"{train_path} (traffic from its rows past the training ones)"
    held_out = [[cell.strip() for cell in line.split(",")] for line in test[:traffic]]
    return DemoData("\n".join(train_lines) + "\n", len(train_lines), held_out, source, False)


def synthetic_rows(count: int, seed: int) -> list[list[str]]:
    """Adult-shaped rows whose income follows age, education, marriage, hours and capital gain, with noise."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        age, hours = rng.randint(17, 80), rng.randint(10, 70)
        education, years = rng.choice(_EDUCATION)
        marital = rng.choice(_MARITAL)
        gain = rng.choice([0] * 9 + [rng.randint(1000, 20000)])
        score = (
            (age - 17) / 63
            + (years - 7) / 9
            + (hours - 10) / 60
            + (0.6 if marital == "Married-civ-spouse" else 0)
            + gain / 15000
            + rng.gauss(0, 0.35)
        )
        out.append(
            [
                str(age),
                rng.choice(["Private", "Self-emp-not-inc", "Local-gov", "?"]),
                str(rng.randint(20000, 400000)),
                education,
                str(years),
                marital,
                rng.choice(_JOBS),
                rng.choice(["Husband", "Not-in-family", "Own-child", "Wife"]),
                rng.choice(["White", "Black", "Asian-Pac-Islander"]),
                rng.choice(["Male", "Female"]),
                str(gain),
                "0",
                str(hours),
                "United-States",
                ">50K" if score > 1.6 else "<=50K",
            ]
        )
    return out


def _csv(rows: list[list[str]]) -> str:
    return "".join(", ".join(row) + "\n" for row in rows)


def features_and_label(cells: list[str]) -> tuple[dict[str, str], str]:
    """A held-out row as the endpoint's JSON record (missing `?` left out) and its true label, recoded."""
    record = {column: cell for column, cell in zip(COLUMNS[:-1], cells, strict=False) if cell not in ("", "?")}
    return record, "1" if cells[-1].rstrip(".") == ">50K" else "0"
