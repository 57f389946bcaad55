"""IAM-style policy documents: parsed strictly, evaluated as IAM does (explicit Deny, then Allow, else deny)."""

from __future__ import annotations

from typing import Any

import pytest

from altostratus.auth import policy
from altostratus.auth.policy import MalformedPolicy


def statements(*items: dict[str, Any]) -> tuple[policy.Statement, ...]:
    return policy.parse({"Version": "2012-10-17", "Statement": list(items)})


def test_an_allow_matches_actions_and_resources_with_wildcards() -> None:
    rules = statements({"Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::lake/raw/*"})
    assert policy.allows(rules, "s3:GetObject", "arn:aws:s3:::lake/raw/2026/a.csv")
    assert policy.allows(rules, "S3:getobject", "arn:aws:s3:::lake/raw/a"), "actions compare case-insensitively"
    assert not policy.allows(rules, "s3:GetObject", "arn:aws:s3:::lake/clean/a")
    assert not policy.allows(rules, "s3:GetObject", "arn:aws:s3:::LAKE/raw/a"), "resources compare exactly"
    assert not policy.allows(rules, "s3:ListBucket", "arn:aws:s3:::lake/raw/a")


def test_question_mark_is_one_character_and_other_characters_are_literal() -> None:
    rules = statements({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/[a]?.txt"]})
    assert policy.allows(rules, "s3:GetObject", "arn:aws:s3:::b/[a]1.txt")
    assert not policy.allows(rules, "s3:GetObject", "arn:aws:s3:::b/a1.txt")
    assert not policy.allows(rules, "s3:GetObject", "arn:aws:s3:::b/[a]12.txt")


def test_an_explicit_deny_wins_and_nothing_matching_is_denied() -> None:
    rules = statements(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "keep", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::lake/*"},
    )
    assert policy.allows(rules, "s3:PutObject", "arn:aws:s3:::lake/x")
    assert not policy.allows(rules, "s3:DeleteObject", "arn:aws:s3:::lake/x")
    assert not policy.allows((), "s3:GetObject", "arn:aws:s3:::lake/x")


def test_a_single_statement_object_and_a_json_text_are_accepted() -> None:
    text = '{"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}}'
    assert policy.allows(policy.parse(text), "execute-api:Invoke", "arn:aws:execute-api:us-east-1:0:alto/x")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "not JSON"),
        ([], "expected a JSON object"),
        ({"Statement": []}, "non-empty list"),
        ({"Version": "2020-01-01", "Statement": [{}]}, "Version='2020-01-01'"),
        ({"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}, "Effect='Maybe'"),
        ({"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}, "service prefix"),
        ({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}, "Action=[]"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}, "Resource=None"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}}]}, "Condition"),
        ({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}, "NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Extra": 1}]}, "Extra"),
        ({"Statement": [{"Effect": "Allow"}], "Other": 1}, "Other"),
        ("x" * 20000, "at most 10240"),
    ],
)
def test_documents_this_subset_cannot_evaluate_are_refused_naming_why(document: Any, message: str) -> None:
    with pytest.raises(MalformedPolicy, match=message.replace("[", r"\[").replace("]", r"\]")):
        policy.parse(document)
