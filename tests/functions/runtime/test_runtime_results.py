"""What a handler sees and returns: events, results of every JSON type, context, environment, the log."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

import pytest

from altostratus.functions.definitions import Outcome, RunSpec

from .helpers import Deploy, result

Invoke = Callable[..., Outcome]

ECHO = """
def handler(event, context):
    return event["value"]
"""


def test_results_of_every_json_type_come_back(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(ECHO)
    for value in [{"a": [1, 2.5, None]}, [1, "two", False], "text ✓", 42, -3.25, True, False, None, {}]:
        assert result(invoke(spec, {"value": value})) == value


def test_the_event_reaches_the_handler_unchanged(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    return {'seen': event}\n")
    event = {"Records": [{"s3": {"object": {"key": "raw/ünïcode.csv", "size": 10}}}], "n": 1.5, "flag": None}
    assert result(invoke(spec, event)) == {"seen": event}


def test_a_payload_of_several_megabytes_goes_through(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    return len(event['blob'])\n")
    assert result(invoke(spec, {"blob": "z" * (5 * 1024 * 1024)})) == 5 * 1024 * 1024


def test_an_empty_payload_is_an_empty_object(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    return event\n")
    assert result(invoke(spec, payload=b"")) == {}


def test_bytes_and_decimals_are_returned_as_lambda_does(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        from decimal import Decimal
        def handler(event, context):
            return b"raw bytes" if event["raw"] else {"count": Decimal("3"), "price": Decimal("1.25")}
        """
    )
    assert invoke(spec, {"raw": True}).payload == b"raw bytes"
    assert result(invoke(spec, {"raw": False})) == {"count": 3, "price": 1.25}


def test_the_context_describes_the_function_and_the_invocation(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        def handler(event, context):
            return {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "custom": context.client_context.custom,
                "identity": context.identity.cognito_identity_id,
            }
        """,
        name="describe-me",
        timeout=2.0,
        memory_mb=256,
    )
    outcome = invoke(spec, client_context='{"custom": {"app": "demo"}}')
    seen = result(outcome)
    assert seen["function_name"] == "describe-me"
    assert seen["function_version"] == "$LATEST"
    assert seen["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:describe-me"
    assert seen["memory_limit_in_mb"] == "256"
    assert re.search(rf"RequestId: {seen['aws_request_id']} ", outcome.log)
    assert seen["log_group_name"] == "/aws/lambda/describe-me"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", seen["log_stream_name"])
    assert 1000 < seen["remaining"] <= 2000
    assert seen["custom"] == {"app": "demo"}
    assert seen["identity"] is None


def test_a_base64_client_context_as_the_invoke_api_carries_it(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    return context.client_context.env\n")
    encoded = base64.b64encode(json.dumps({"env": {"locale": "en-GB"}}).encode()).decode()
    assert result(invoke(spec, client_context=encoded)) == {"locale": "en-GB"}


def test_remaining_time_counts_down(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        import time
        def handler(event, context):
            before = context.get_remaining_time_in_millis()
            time.sleep(0.3)
            return [before, context.get_remaining_time_in_millis()]
        """,
    )
    before, after = result(invoke(spec))
    assert 290 <= before - after < 1500


def test_the_environment_is_the_functions_and_lambdas_only(
    deploy: Deploy, invoke: Invoke, task_root: Callable[[RunSpec], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALTO_PARENT_SECRET", "must-not-leak")
    spec = deploy(
        """
        import os, sys
        def handler(event, context):
            return {"env": dict(os.environ), "cwd": os.getcwd(), "path": sys.path}
        """,
        name="env-fn",
        environment={"STAGE": "test", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        memory_mb=192,
    )
    seen = result(invoke(spec))
    env = seen["env"]
    assert env["STAGE"] == "test"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["LAMBDA_TASK_ROOT"] == task_root(spec)
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == "UTC"
    assert "ALTO_PARENT_SECRET" not in env
    assert seen["cwd"] == task_root(spec)
    assert seen["path"][0] == task_root(spec)


def test_platform_packages_are_importable_like_lambdas_boto3(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("import importlib.util\ndef handler(e, c):\n    return bool(importlib.util.find_spec('boto3'))\n")
    assert result(invoke(spec)) is True


def test_the_trace_id_is_set_for_its_invocation_only(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("import os\ndef handler(e, c):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n")
    assert result(invoke(spec, trace_id="Root=1-abc")) == "Root=1-abc"
    assert result(invoke(spec)) is None


REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: (?P<used>\d+) MB\t(Init Duration: \d+\.\d\d ms\t)?$"
)


def test_the_log_is_framed_like_lambdas(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy('print("importing")\ndef handler(event, context):\n    print("handling", event["n"])\n    return 1\n')
    for n, expected_init in [(1, True), (2, False)]:
        outcome = invoke(spec, {"n": n})
        *lines, report = outcome.log.splitlines()
        match = REPORT.match(report)
        assert match, report
        rid = match["id"]
        start, end = f"START RequestId: {rid} Version: $LATEST", f"END RequestId: {rid}"
        assert lines == (["importing"] if expected_init else []) + [start, f"handling {n}", end]
        assert ("Init Duration" in report) is expected_init is outcome.cold_start
        assert int(match["used"]) == outcome.max_memory_mb > 5


def test_output_at_the_file_descriptor_level_is_captured_in_order(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        import ctypes, os, subprocess, sys
        libc = ctypes.CDLL(None)
        def handler(event, context):
            print("python stdout")
            print("python stderr", file=sys.stderr)
            os.write(1, b"fd 1\\n")
            os.write(2, b"fd 2\\n")
            subprocess.run(["echo", "from a subprocess"], check=True)
            libc.puts(b"from C stdio")
            return None
        """
    )
    output = invoke(spec).log.splitlines()[1:-2]
    assert output == ["python stdout", "python stderr", "fd 1", "fd 2", "from a subprocess", "from C stdio"]


def test_logging_writes_lambdas_format_with_the_request_id(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("import logging\ndef handler(e, c):\n    logging.getLogger().warning('careful')\n")
    outcome = invoke(spec)
    rid = outcome.log.splitlines()[0].split()[2]
    assert re.search(rf"^\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\tcareful$", outcome.log, re.M)
