"""Function names, qualifiers and ARNs in every form Lambda accepts."""

from __future__ import annotations

import pytest

from altostratus.functions.errors import InvalidFunctionParameter
from altostratus.functions.names import FunctionRef, function_arn, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my-function_1", FunctionRef("my-function_1")),
        ("my-function:7", FunctionRef("my-function", "7")),
        ("my-function:$LATEST", FunctionRef("my-function", "$LATEST")),
        ("my-function:prod", FunctionRef("my-function", "prod")),
        ("123456789012:function:my-function", FunctionRef("my-function")),
        ("123456789012:function:my-function:prod", FunctionRef("my-function", "prod")),
        ("arn:aws:lambda:eu-west-1:000000000000:function:my-function", FunctionRef("my-function")),
        ("arn:aws:lambda:us-east-1:000000000000:function:my-function:3", FunctionRef("my-function", "3")),
    ],
)
def test_every_form_lambda_accepts(text: str, expected: FunctionRef) -> None:
    assert parse_ref(text) == expected


def test_the_qualifier_parameter_and_the_name_must_agree() -> None:
    assert parse_ref("f", "2") == FunctionRef("f", "2")
    assert parse_ref("f:2", "2") == FunctionRef("f", "2")
    with pytest.raises(InvalidFunctionParameter, match="does not match the specified qualifier"):
        parse_ref("f:2", "3")


@pytest.mark.parametrize("text", ["", "a" * 65, "has space", "a:b:c", "f:", "f.g", "arn:aws:lambda:x:1:function:f"])
def test_bad_names_name_the_rule(text: str) -> None:
    with pytest.raises(InvalidFunctionParameter, match="FunctionName="):
        parse_ref(text)


def test_unqualified_places_refuse_qualifiers() -> None:
    with pytest.raises(InvalidFunctionParameter, match="expected an unqualified name"):
        parse_ref("f:1", qualified=False)


def test_bad_qualifiers_are_refused() -> None:
    with pytest.raises(InvalidFunctionParameter, match=r"Qualifier='bad\.one'"):
        parse_ref("f", "bad.one")


def test_arns() -> None:
    assert function_arn("eu-west-1", "f") == "arn:aws:lambda:eu-west-1:000000000000:function:f"
    assert function_arn("eu-west-1", "f", "$LATEST") == "arn:aws:lambda:eu-west-1:000000000000:function:f:$LATEST"
