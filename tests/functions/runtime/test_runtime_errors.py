"""Handlers that fail: each gets the error document Lambda's Python runtime sends, and the worker stays usable."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from altostratus.functions.definitions import MAX_PAYLOAD_BYTES, Invocation, Outcome, RunSpec
from altostratus.functions.runtime import ProcessRuntime, WorkerStartFailed

from .helpers import Deploy, error, result

Invoke = Callable[..., Outcome]


def test_an_exception_is_unhandled_with_its_stack_trace(
    deploy: Deploy, invoke: Invoke, task_root: Callable[[RunSpec], str]
) -> None:
    spec = deploy(
        """
        def helper(value):
            raise ValueError(f"bad value {value}")

        def handler(event, context):
            return helper(event["v"])
        """
    )
    outcome = invoke(spec, {"v": 7})
    document = error(outcome)
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "bad value 7"
    assert document["requestId"] in outcome.log
    stack = document["stackTrace"]
    assert len(stack) == 2, "the runtime's own frames are cut"
    assert stack[0].startswith(f'  File "{task_root(spec)}/app.py", line 6, in handler')
    assert 'line 3, in helper\n    raise ValueError(f"bad value {value}")' in stack[1]
    assert "[ERROR] ValueError: bad value 7\nTraceback (most recent call last):\n" in outcome.log


def test_the_worker_stays_warm_after_an_exception(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    if event['fail']:\n        raise KeyError('x')\n    return 'ok'\n")
    assert error(invoke(spec, {"fail": True}))["errorType"] == "KeyError"
    after = invoke(spec, {"fail": False})
    assert result(after) == "ok" and not after.cold_start


def test_a_missing_module_is_an_import_error_on_every_invocation(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("import not_installed_anywhere\ndef handler(e, c):\n    return 1\n")
    for _ in range(2):
        outcome = invoke(spec)
        assert error(outcome) == {
            "errorMessage": "Unable to import module 'app': No module named 'not_installed_anywhere'",
            "errorType": "Runtime.ImportModuleError",
            "stackTrace": [],
        }
        assert outcome.cold_start
        assert outcome.log.startswith("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'")
        assert "START RequestId:" in outcome.log and "Init Duration" in outcome.log


def test_a_missing_handler_function(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("def other(e, c):\n    return 1\n", handler="app.handler")))
    assert document["errorType"] == "Runtime.HandlerNotFound"
    assert document["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_a_missing_handler_module(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("", handler="nowhere.handler")))
    assert document["errorType"] == "Runtime.ImportModuleError"
    assert document["errorMessage"] == "Unable to import module 'nowhere': No module named 'nowhere'"


def test_a_handler_name_without_a_dot(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("", handler="app")))
    assert document["errorType"] == "Runtime.MalformedHandlerName"
    assert document["errorMessage"].startswith("Bad handler 'app': ")


def test_a_syntax_error(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("def handler(event, context)\n    return 1\n")))
    assert document["errorType"] == "Runtime.UserCodeSyntaxError"
    assert document["errorMessage"].startswith("Syntax error in module 'app': ")
    assert "app.py" in document["stackTrace"][0] and "Line 1" in document["stackTrace"][0]


def test_an_exception_while_importing_keeps_its_type_and_the_init_output(deploy: Deploy, invoke: Invoke) -> None:
    outcome = invoke(deploy("print('configuring')\nraise RuntimeError('no config')\n"))
    document = error(outcome)
    assert (document["errorType"], document["errorMessage"]) == ("RuntimeError", "no config")
    assert outcome.log.startswith("configuring\n[ERROR] RuntimeError: no config")


def test_a_result_that_is_not_json_is_a_marshal_error(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("def handler(e, c):\n    return {1, 2}\n")))
    assert document["errorType"] == "Runtime.MarshalError"
    assert document["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"


def test_a_result_over_6_mb_is_a_size_error_and_the_worker_stays(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(event, context):\n    return 'x' * event['size']\n", memory_mb=256)
    document = error(invoke(spec, {"size": 7 * 1024 * 1024}))
    assert document["errorType"] == "Function.ResponseSizeTooLarge"
    assert document["errorMessage"] == (
        f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
    )
    near_limit = invoke(spec, {"size": MAX_PAYLOAD_BYTES - 2})
    assert len(near_limit.payload) == MAX_PAYLOAD_BYTES and not near_limit.cold_start


def test_an_event_that_is_not_json_is_an_unmarshal_error(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(e, c):\n    return e\n")
    document = error(invoke(spec, payload=b"{not json"))
    assert document["errorType"] == "Runtime.UnmarshalError"
    assert document["errorMessage"].startswith("Unable to unmarshal input: Expecting property name")
    assert result(invoke(spec, [1])) == [1]


def test_a_client_context_that_is_not_json(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("def handler(e, c):\n    return 1\n"), client_context="{nope"))
    assert document["errorType"] == "Runtime.LambdaContextUnmarshalError"


def test_code_that_cannot_start_raises_and_frees_its_slot(runtime: ProcessRuntime, deploy: Deploy) -> None:
    spec = deploy("def handler(e, c):\n    return 1\n")
    missing = dataclasses.replace(spec, code_dir=spec.code_dir / "gone")
    with pytest.raises(WorkerStartFailed, match="Could not start a worker"):
        runtime.run(missing, Invocation("req-1", b"{}"))
    assert runtime.process_count() == 0
