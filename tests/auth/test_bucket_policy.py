"""The bucket-policy grammar: principals, NotAction/NotResource, conditions, public-ness, and what it refuses;
and that functions' access policies (policy.parse) still refuse all of it."""

from __future__ import annotations

from typing import Any

import pytest

from altostratus.auth import policy
from altostratus.auth.policy import MalformedBucketPolicy, MalformedPolicy, PolicyRequest, Verdict
from altostratus.auth.s3_actions import KNOWN_ACTIONS

BUCKET = "lake"
USER = "arn:aws:iam::000000000000:user/ada"


def parse(*items: dict[str, Any]) -> tuple[policy.Statement, ...]:
    return policy.parse_bucket_policy({"Version": "2012-10-17", "Statement": list(items)}, BUCKET, KNOWN_ACTIONS)


def request(
    action: str = "s3:GetObject",
    resource: str = "arn:aws:s3:::lake/raw/a",
    ids: frozenset[str] = frozenset({"account", USER, "AKIAAAAAAAAAAAAAAAAA"}),
    **context: str,
) -> PolicyRequest:
    return PolicyRequest(action, resource, ids, lambda key: (context[key],) if key in context else None)


def statement(**fields: Any) -> dict[str, Any]:
    """A statement with these fields over a public GetObject on lake/* (a field given as None is left out)."""
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake/*", **fields}
    return {name: value for name, value in base.items() if value is not None}


def test_principals_by_user_account_key_and_everyone() -> None:
    by_user = parse(statement(Principal={"AWS": USER}))
    assert policy.evaluate(by_user, request()) is Verdict.ALLOW
    assert policy.evaluate(by_user, request(ids=frozenset({"account"}))) is Verdict.NONE
    for account in ("000000000000", "arn:aws:iam::000000000000:root"):
        assert policy.evaluate(parse(statement(Principal={"AWS": account})), request()) is Verdict.ALLOW
    by_key = parse(statement(Principal={"AWS": ["AKIAAAAAAAAAAAAAAAAA"]}))
    assert policy.evaluate(by_key, request()) is Verdict.ALLOW
    assert policy.evaluate(parse(statement()), request(ids=frozenset())) is Verdict.ALLOW, "* reaches the anonymous"
    assert policy.evaluate(parse(statement(Principal={"AWS": "*"})), request(ids=frozenset())) is Verdict.ALLOW


def test_deny_wins_and_not_action_not_resource_exclude() -> None:
    rules = parse(
        statement(Action="s3:*"),
        statement(Effect="Deny", NotAction="s3:GetObject", Action=None, Resource="arn:aws:s3:::lake/*"),
    )
    assert policy.evaluate(rules, request()) is Verdict.ALLOW
    assert policy.evaluate(rules, request("s3:PutObject")) is Verdict.DENY
    outside = parse(statement(NotResource="arn:aws:s3:::lake/keep/*", Resource=None))
    assert policy.evaluate(outside, request(resource="arn:aws:s3:::lake/keep/x")) is Verdict.NONE
    assert policy.evaluate(outside, request()) is Verdict.ALLOW


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"StringEquals": {"s3:prefix": "raw/"}}, {"s3:prefix": "raw/"}, True),
        ({"StringEquals": {"s3:prefix": "raw/"}}, {}, False),
        ({"StringNotEquals": {"s3:prefix": "raw/"}}, {}, True),
        ({"StringNotEquals": {"s3:prefix": ["raw/", "clean/"]}}, {"s3:prefix": "clean/"}, False),
        ({"StringLike": {"s3:prefix": "raw/*"}}, {"s3:prefix": "raw/2026/"}, True),
        ({"StringNotLike": {"s3:prefix": "raw/*"}}, {"s3:prefix": "raw/2026/"}, False),
        ({"StringEqualsIgnoreCase": {"aws:username": "ADA"}}, {"aws:username": "ada"}, True),
        ({"NumericLessThan": {"s3:max-keys": 10}}, {"s3:max-keys": "9"}, True),
        ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, False),
        ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, False),
        ({"Bool": {"aws:SecureTransport": False}}, {"aws:securetransport": "false"}, True),
        ({"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}, {"aws:sourceip": "127.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:sourceip": "127.0.0.1"}, False),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:sourceip": "127.0.0.1"}, True),
        ({"IpAddress": {"aws:SourceIp": "::1/128"}}, {"aws:sourceip": "::1"}, True),
        ({"Null": {"aws:username": "true"}}, {}, True),
        ({"StringEquals": {"s3:ExistingObjectTag/Class": "public"}}, {"s3:existingobjecttag/Class": "public"}, True),
        (
            {"StringEquals": {"aws:PrincipalAccount": "000000000000"}, "Bool": {"aws:SecureTransport": "true"}},
            {"aws:principalaccount": "000000000000", "aws:securetransport": "false"},
            False,
        ),
    ],
)
def test_conditions(condition: dict[str, Any], context: dict[str, str], holds: bool) -> None:
    rules = parse(statement(Condition=condition))
    assert (policy.evaluate(rules, request(**context)) is Verdict.ALLOW) == holds


def test_public_is_everyone_without_a_condition_pinning_who() -> None:
    assert parse(statement())[0].is_public()
    assert not parse(statement(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))[0].is_public()
    assert parse(statement(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))[0].is_public()
    assert parse(statement(Condition={"StringLike": {"s3:prefix": "x"}}))[0].is_public()
    assert not parse(statement(Principal={"AWS": USER}))[0].is_public()
    assert not parse(statement(Effect="Deny"))[0].is_public()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Resource": "arn:aws:s3:::other/*"}, "invalid resource"),
        ({"Resource": "arn:aws:s3:::lake/${aws:username}/*"}, "invalid resource"),
        ({"Resource": "arn:aws:iam::000000000000:user/x"}, "invalid resource"),
        ({"Action": "s3:NoSuchThing"}, "invalid action"),
        ({"Action": "iam:CreateUser"}, "invalid action"),
        ({"NotAction": "s3:GetObject"}, "exactly one of Action and NotAction"),
        ({"Principal": {"AWS": "arn:aws:iam::111111111111:user/x"}}, "Invalid principal"),
        ({"Principal": {"Service": "lambda.amazonaws.com"}}, "Invalid principal"),
        ({"NotPrincipal": {"AWS": "*"}}, "NotPrincipal"),
        ({"Condition": {"DateGreaterThan": {"aws:sourceip": "x"}}}, "not supported"),
        ({"Condition": {"IpAddress": {"aws:SourceIp": "not-an-ip"}}}, "not an IP address"),
        ({"Condition": {"NumericLessThan": {"s3:max-keys": "many"}}}, "compares numbers"),
        ({"Condition": {"Bool": {"aws:SecureTransport": "maybe"}}}, "true or false"),
        ({"Condition": {"StringEquals": {"aws:RequestedRegion": "x"}}}, "not supported"),
        ({"Condition": []}, "expected an object"),
        ({"Extra": 1}, "Extra"),
    ],
)
def test_refused_statements(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedBucketPolicy) as caught:
        parse(statement(**fields))
    assert caught.value.code == "MalformedPolicy"
    assert message in caught.value.message


def test_the_bucket_may_be_named_with_a_wildcard_that_matches_it() -> None:
    rules = parse(statement(Resource=["arn:aws:s3:::la*", "arn:aws:s3:::l?ke/*", "arn:aws:s3:::*"]))
    assert policy.evaluate(rules, request()) is Verdict.ALLOW
    with pytest.raises(MalformedBucketPolicy, match="invalid resource"):
        parse(statement(Resource="arn:aws:s3:::other*/*"))


@pytest.mark.parametrize(
    "fields",
    [
        {"Principal": "*"},
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"NotAction": "s3:GetObject"},
        {"NotResource": "*"},
    ],
)
def test_functions_access_policies_still_refuse_the_richer_grammar(fields: dict[str, Any]) -> None:
    item = {"Effect": "Allow", "Resource": "*", **fields}
    if "NotAction" not in fields:
        item["Action"] = "s3:*"
    with pytest.raises(MalformedPolicy) as caught:
        policy.parse({"Statement": [item]})
    assert caught.value.code == "MalformedPolicyDocument"
