"""The csv_cleaner example: its cleaning rules, and the README's walkthrough run as written against a live server.

The walkthrough uploads UCI Adult from ../shared/data; where that folder is absent a small generated file in
Adult's shape (headerless, ", " separators, "?" for missing) stands in for it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from altostratus.demo.data import COLUMNS
from tests.live_server import LiveServer, live_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "csv_cleaner"
ADULT = ROOT.parent / "shared" / "data" / "tabular" / "adult" / "adult-train.csv"
ADULT_IN_README = "../shared/data/tabular/adult/adult-train.csv"
ADULT_COLUMNS = list(COLUMNS)  # Adult's columns, as adult.names lists them


def load_cleaning() -> ModuleType:
    """examples/csv_cleaner/cleaning.py, imported from its file (the example is not a package)."""
    spec = importlib.util.spec_from_file_location("csv_cleaner_cleaning", EXAMPLE / "cleaning.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks the module up by name
    spec.loader.exec_module(module)
    return module


cleaning = load_cleaning()


def test_cells_are_trimmed_missing_markers_emptied_malformed_rows_dropped_and_numbers_typed() -> None:
    raw = " id , name ,score, when\n 007, Ada ,1.50,2024\n2,?,NA,2025\n\n3,Bob\n4, Cy ,1e3,?\n"

    text, report = cleaning.clean_csv(raw)

    assert text == "id,name,score,when\n7,Ada,1.5,2024\n2,,,2025\n4,Cy,1000.0,\n"
    assert (report["rows_in"], report["rows_out"], report["malformed_rows"]) == (4, 3, 1)
    assert report["malformed_examples"] == [{"line": 5, "fields": 2}]
    assert report["header"] == "detected"
    columns = {c["name"]: c for c in report["columns"]}
    assert {name: c["type"] for name, c in columns.items()} == {
        "id": "integer",
        "name": "string",
        "score": "float",
        "when": "integer",
    }
    assert (columns["score"]["missing"], columns["score"]["min"], columns["score"]["max"]) == (1, 1.5, 1000)
    assert columns["name"]["missing"] == 1


def test_a_headerless_file_takes_the_given_names_or_made_up_ones() -> None:
    raw = "39, State-gov, 77516\n50, ?, 83311\n"

    given, report = cleaning.clean_csv(raw, columns=["age", "workclass", "fnlwgt"])
    made_up, made_up_report = cleaning.clean_csv(raw, columns=["only", "two"])

    assert given == "age,workclass,fnlwgt\n39,State-gov,77516\n50,,83311\n"
    assert report["header"] == "given"
    assert made_up.splitlines()[0] == "column_1,column_2,column_3"
    assert made_up_report["header"] == "generated"


@pytest.mark.parametrize(("scale", "expected"), [("minmax", [0.0, 0.5, 1.0]), ("zscore", [-(1.5**0.5), 0.0, 1.5**0.5])])
def test_numeric_columns_can_be_rescaled(scale: str, expected: list[float]) -> None:
    text, report = cleaning.clean_csv("x;label\n1;a\n2;b\n3;c\n", scale=scale)

    assert [float(line.split(",")[0]) for line in text.splitlines()[1:]] == pytest.approx(expected)
    assert report["delimiter"] == ";"
    assert report["columns"][0]["mean"] == 2.0


def test_bad_scale_and_empty_input() -> None:
    with pytest.raises(ValueError, match="scale='log'"):
        cleaning.clean_csv("a\n1\n", scale="log")
    assert cleaning.clean_csv("\n \n")[1]["rows_out"] == 0


def walkthrough() -> str:
    """The README's csv-cleaner walkthrough: the shell block of its section."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Worked example: cleaning CSV as it lands in the lake") :]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def adult_stand_in(folder: Path) -> Path:
    """A small file shaped like Adult: 200 good rows (some with '?') and one malformed row."""
    rows = [
        f"{20 + n % 50}, {'?' if n % 10 == 0 else 'Private'}, {1000 + n}, Bachelors, 13, Never-married, "
        f"Sales, Not-in-family, White, Male, 0, 0, 40, United-States, {'>50K' if n % 3 else '<=50K'}"
        for n in range(200)
    ]
    rows.insert(100, "41, Private, broken row")
    path = folder / "adult-train.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Any:
    """A fresh `alto serve` for the walkthrough."""
    with live_server(tmp_path / "data") as running:
        yield running


def test_the_readme_walkthrough_cleans_an_upload(server: LiveServer, tmp_path: Path) -> None:
    adult = ADULT if ADULT.exists() else adult_stand_in(tmp_path)
    script = (
        walkthrough()
        .replace("http://127.0.0.1:8340", server.endpoint)
        .replace("~/.local/share/altostratus/credentials", str(server.data_dir / "credentials"))
        .replace(ADULT_IN_README, str(adult))
    )
    env = {
        **os.environ,
        "ALTO_PORT": str(server.port),
        "ALTO_DATA_DIR": str(server.data_dir),
        "AWS_CONFIG_FILE": os.devnull,
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )

    assert done.returncode == 0, done.stderr
    assert "created: arn:aws:lambda:us-east-1:000000000000:function:csv-cleaner (Active" in done.stdout
    s3 = server.client("s3")
    cleaned = s3.get_object(Bucket="lake", Key="clean/adult-train.csv")["Body"].read().decode().splitlines()
    report = json.loads(s3.get_object(Bucket="lake", Key="clean/adult-train.report.json")["Body"].read())
    assert cleaned[0] == ",".join(ADULT_COLUMNS)
    assert report["header"] == "given"
    assert report["output"] == "s3://lake/clean/adult-train.csv"
    columns = {c["name"]: c for c in report["columns"]}
    assert columns["age"]["type"] == columns["fnlwgt"]["type"] == "integer"
    assert columns["education"]["type"] == "string"
    assert f'"rows_out": {report["rows_out"]}' in done.stdout  # the report printed by `aws s3 cp ... -`
    assert f"cleaned s3://lake/raw/adult-train.csv: {report['rows_out']} rows kept" in done.stdout  # the logs
    if adult == ADULT:
        assert (report["rows_out"], report["malformed_rows"], len(cleaned)) == (32561, 0, 32562)
        assert (columns["workclass"]["missing"], columns["occupation"]["missing"]) == (1836, 1843)
        assert (columns["age"]["min"], columns["age"]["max"]) == (17, 90)
    else:
        assert (report["rows_out"], report["malformed_rows"], len(cleaned)) == (200, 1, 201)
        assert columns["workclass"]["missing"] == 20
