"""DataSchema JSON, schema inference, and reading data by a schema (invalid values, contradictions)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from altostratus.predict import Attribute, AttributeType, InvalidInput, ReadOptions, Schema, TextSource
from altostratus.predict.inference import detect_header, infer_schema
from altostratus.predict.table import load_table, table_from_records

SCHEMA = {
    "version": "1.0",
    "rowId": "id",
    "targetAttributeName": "y",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "id", "attributeType": "CATEGORICAL"},
        {"attributeName": "x", "attributeType": "NUMERIC"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
    "excludedAttributeNames": [],
}


def test_data_schema_round_trips() -> None:
    schema = Schema.from_json(json.dumps(SCHEMA))
    assert schema.target == "y" and schema.row_id == "id" and schema.contains_header
    assert [a.name for a in schema.inputs] == ["x"]
    assert json.loads(schema.to_json()) == SCHEMA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataFormat": "JSON"}, "dataFormat='JSON'; expected one of \\['CSV'\\]"),
        ({"version": "2.0"}, "version='2.0'"),
        ({"targetAttributeName": "nope"}, "targetAttributeName='nope' is not among the attributes"),
        ({"excludedAttributeNames": ["y"]}, "may not be the rowId or excluded"),
        ({"attributes": []}, "expected a non-empty list"),
        ({"attributes": [{"attributeName": "a", "attributeType": "DATE"}]}, "attributeType='DATE'; expected one of"),
        ({"attributes": [{"attributeName": "a", "attributeType": "TEXT"}] * 2}, "more than once"),
        ({"colour": 1}, "unknown fields \\['colour'\\]"),
        ({"dataFileContainsHeader": "maybe"}, "expected true or false"),
    ],
)
def test_data_schema_errors_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Schema.from_json(json.dumps({**SCHEMA, **change}))


def test_data_schema_must_be_a_json_object() -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        Schema.from_json("{")
    with pytest.raises(InvalidInput, match="expected a JSON object"):
        Schema.from_json("[]")


def infer(text: str, **hints: object) -> dict[str, AttributeType]:
    schema = infer_schema([TextSource("d.csv", text)], ReadOptions(), **hints)  # type: ignore[arg-type]
    return {a.name: a.type for a in schema.attributes}


def test_inference_rules() -> None:
    lines = ["num,flag,yesno,cat,text,mostly_num,empty"]
    for i in range(200):
        mostly = "oops" if i == 7 else str(i * 1.5)
        text = f"the quick brown fox number {i} jumps"
        lines.append(f"{i},{i % 2},{'Yes' if i % 3 else 'no'},c{i % 4},{text},{mostly},")
    types = infer("\n".join(lines))
    assert types == {
        "num": AttributeType.NUMERIC,
        "flag": AttributeType.BINARY,
        "yesno": AttributeType.BINARY,
        "cat": AttributeType.CATEGORICAL,
        "text": AttributeType.TEXT,
        "mostly_num": AttributeType.NUMERIC,
        "empty": AttributeType.CATEGORICAL,
    }


def test_binary_needs_two_values_one_true_one_false() -> None:
    assert infer("a\n1\n1\n1\n")["a"] is AttributeType.NUMERIC
    assert infer("a\ny\nyes\ny\n")["a"] is AttributeType.CATEGORICAL
    assert infer("a\nTRUE\nfalse\n?\n")["a"] is AttributeType.BINARY


def test_short_text_with_few_values_is_categorical() -> None:
    lines = ["city"] + ["New York", "Los Angeles", "San Francisco"] * 20
    assert infer("\n".join(lines))["city"] is AttributeType.CATEGORICAL


def test_header_detection() -> None:
    assert detect_header([TextSource("a", "age,name\n30,bob\n40,al\n")], ReadOptions())
    assert not detect_header([TextSource("a", "1,bob\n30,al\n40,ed\n")], ReadOptions())
    assert not detect_header([TextSource("a", "red,bob\nblue,al\nred,bob\n")], ReadOptions())
    assert infer("1,a\n2,b\n3,a\n") == {"Var01": AttributeType.NUMERIC, "Var02": AttributeType.CATEGORICAL}


def test_inference_checks_the_target_name() -> None:
    with pytest.raises(InvalidInput, match="target='z' is not a column"):
        infer("x,y\n1,2\n", target="z")


def schema_of(*attributes: tuple[str, AttributeType], target: str | None = None) -> Schema:
    return Schema(tuple(Attribute(n, t) for n, t in attributes), target=target, contains_header=True)


def test_loading_types_columns_and_counts_invalid_values() -> None:
    lines = ["x,c,b"] + [f"{i},{'?' if i == 3 else 'k' + str(i % 2)},{'y' if i % 2 else 'n'}" for i in range(300)]
    lines.append("abc,k1,maybe")
    schema = schema_of(("x", AttributeType.NUMERIC), ("c", AttributeType.CATEGORICAL), ("b", AttributeType.BINARY))
    data = load_table([TextSource("d.csv", "\n".join(lines))], schema, ReadOptions())
    assert data.table.rows == 301
    x = data.table.numeric("x")
    assert x[5] == 5.0 and np.isnan(x[300])
    assert data.table.strings("c")[3] is None and data.table.strings("c")[4] == "k0"
    assert data.table.numeric("b")[1] == 1.0 and np.isnan(data.table.numeric("b")[300])
    assert data.invalid["x"].count == 1 and data.invalid["x"].examples == [("row 301 (line 302 of d.csv)", "abc")]


def test_a_schema_that_contradicts_the_data_names_row_and_column() -> None:
    schema = schema_of(("x", AttributeType.NUMERIC), ("y", AttributeType.CATEGORICAL))
    text = "x,y\n1,a\n2,b\nseven,c\n"
    with pytest.raises(InvalidInput, match=r"attribute 'x' is NUMERIC .* row 3 \(line 4 of d.csv\) has 'seven'"):
        load_table([TextSource("d.csv", text)], schema, ReadOptions())


def test_schema_width_and_header_must_match_the_data() -> None:
    schema = schema_of(("x", AttributeType.NUMERIC))
    with pytest.raises(InvalidInput, match="has 2 columns; expected 1"):
        load_table([TextSource("d.csv", "x,y\n1,2\n")], schema, ReadOptions())
    with pytest.raises(InvalidInput, match=r"header of d.csv is \['z'\]"):
        load_table([TextSource("d.csv", "z\n1\n")], schema, ReadOptions())


def test_missing_markers_are_configurable() -> None:
    schema = schema_of(("x", AttributeType.NUMERIC))
    data = load_table(
        [TextSource("d.csv", "x\n1\n-\n?\n")], schema, ReadOptions(missing_markers=["-"], max_invalid_fraction=0.5)
    )
    assert np.isnan(data.table.numeric("x")[1]) and data.invalid["x"].count == 1


def test_records_name_unknown_fields_and_invalid_values() -> None:
    schema = schema_of(("x", AttributeType.NUMERIC), ("c", AttributeType.CATEGORICAL))
    table = table_from_records(schema, [{"x": "2"}], ReadOptions().missing_markers)
    assert table.numeric("x")[0] == 2.0 and table.strings("c")[0] is None
    with pytest.raises(InvalidInput, match="Record field 'colour' is not an attribute"):
        table_from_records(schema, [{"colour": "red"}], ())
    with pytest.raises(InvalidInput, match="Record field 'x'='two' is not a valid NUMERIC value"):
        table_from_records(schema, [{"x": "two"}], ())


def test_a_named_target_in_the_first_row_makes_it_a_header() -> None:
    text = "x,c,y\n1,a,0\n2,c,1\n3,b,0\n"  # "c" names a column and is also one of its values
    assert not detect_header([TextSource("a", text)], ReadOptions())
    assert detect_header([TextSource("a", text)], ReadOptions(), named=["y"])


def test_a_ragged_row_does_not_stop_header_detection() -> None:
    assert detect_header([TextSource("a", "x,y\n1,0\n2,1,9\n")], ReadOptions())
    assert not detect_header([TextSource("a", "1,0\n2,1,9\n")], ReadOptions())
