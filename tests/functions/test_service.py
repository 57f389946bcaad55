"""The FunctionsService and its registry on SQLite and PostgreSQL: deploys, states, versions, aliases, invokes."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
from typing import Any

import pytest

from altostratus.auth.keys import Role
from altostratus.core.errors import NotImplementedOperation
from altostratus.functions.definitions import LATEST, FunctionConfig, InvocationType
from altostratus.functions.deployment import LakeCode
from altostratus.functions.errors import (
    FunctionNotFound,
    InvalidFunctionParameter,
    InvalidRequestContent,
    PayloadTooLarge,
    PreconditionFailed,
    ResourceConflict,
)
from tests.functions.conftest import HELLO, Harness
from tests.functions.wheels import make_zip

WITH_REQUIREMENTS = make_zip({"app.py": "def handler(e, c):\n    return e\n", "requirements.txt": "tinydep==1\n"})


def create(
    h: Harness, name: str = "fn", code: bytes = HELLO, *, handler: str = "app.handler", **settings: Any
) -> FunctionConfig:
    return h.service.create(name, handler=handler, code=code, **settings)


def test_create_then_get_in_every_name_form(harness: Harness) -> None:
    config = harness.service.create("fn", handler="app.handler", code=HELLO, timeout=30, memory=512)

    assert config.state == "Active"
    assert config.version == LATEST
    assert config.code_sha256 == base64.b64encode(hashlib.sha256(HELLO).digest()).decode()
    assert config.code_size == len(HELLO)
    assert (config.timeout, config.memory, config.runtime) == (30, 512, "python3.11")
    for name in ("fn", "fn:$LATEST", "arn:aws:lambda:eu-west-1:000000000000:function:fn", "000000000000:function:fn"):
        assert harness.service.get(name) == config
    assert [c.name for c in harness.service.functions()] == ["fn"]


def test_each_function_gets_its_own_function_key(harness: Harness) -> None:
    create(harness, "a")
    create(harness, "b")

    keys = [k for k in harness.keys.list() if k.role == Role.FUNCTION]

    assert sorted(k.description for k in keys) == ["function a", "function b"]


def test_a_taken_name_is_a_conflict_and_leaves_no_blob(harness: Harness) -> None:
    create(harness)
    blobs = set(harness.blobs.keys())

    with pytest.raises(ResourceConflict, match="Function already exist: fn"):
        create(harness)

    assert set(harness.blobs.keys()) == blobs


BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"runtime": "nodejs20.x"}, r"Runtime='nodejs20.x'; this server runs Python handlers: expected one of \["),
    ({"timeout": 901}, "Timeout=901; expected 1 to 900 seconds"),
    ({"timeout": 0}, "Timeout=0; expected 1 to 900 seconds"),
    ({"memory": 64}, "MemorySize=64; expected 128 to 10240 MB"),
    ({"memory": 10241}, "MemorySize=10241; expected 128 to 10240 MB"),
    ({"environment": {"AWS_REGION": "x"}}, "Reserved keys used in this request: AWS_REGION"),
    ({"environment": {"1BAD": "x"}}, r"Environment.Variables has names \['1BAD'\]"),
    ({"environment": {"BIG": "x" * 5000}}, "exceeded the 4KB limit"),
    ({"handler": "nodot"}, "Handler='nodot'; expected MODULE.FUNCTION"),
]


def test_bad_settings_name_the_field_and_what_is_allowed(harness: Harness) -> None:
    for settings, message in BAD_SETTINGS:
        with pytest.raises(InvalidFunctionParameter, match=message):
            create(harness, **settings)
    assert harness.service.functions() == []


def test_a_missing_handler_module_fails_the_function_until_the_handler_is_fixed(harness: Harness) -> None:
    config = create(harness, handler="main.handler")
    assert config.state == "Failed"
    assert "names module 'main', but the code package has neither main.py" in config.state_reason

    with pytest.raises(ResourceConflict, match="The function is currently in the following state: Failed"):
        harness.service.invoke("fn", b"{}")

    assert harness.service.update_configuration("fn", handler="app.handler").state == "Active"
    assert harness.service.invoke("fn", b"{}").outcome.ok


def test_requirements_leave_the_function_pending_until_the_install_job_ran(harness: Harness) -> None:
    config = create(harness, code=WITH_REQUIREMENTS)
    assert (config.state, config.state_reason_code) == ("Pending", "Creating")
    with pytest.raises(
        ResourceConflict,
        match=r"cannot be performed at this time\. The function is currently in the following state: Pending",
    ):
        harness.service.invoke("fn", b"{}")

    assert harness.run_jobs() == 1

    assert harness.service.get("fn").state == "Active"
    harness.service.invoke("fn", b"{}")
    spec = harness.runtime.calls[-1][0]
    assert spec.deps_dir is not None and (spec.deps_dir / "installed_dependency.py").exists()


def test_identical_requirements_are_installed_once(harness: Harness) -> None:
    create(harness, "first", code=WITH_REQUIREMENTS)
    harness.run_jobs()

    second = create(harness, "second", code=WITH_REQUIREMENTS)

    assert second.state == "Active"
    assert harness.installer.runs == 1


def test_a_failed_install_fails_the_function_with_pips_error(harness: Harness) -> None:
    code = make_zip({"app.py": "def handler(e, c):\n    return e\n", "requirements.txt": "missing==1\n"})
    create(harness, code=code)
    harness.run_jobs()

    config = harness.service.get("fn")

    assert (config.state, config.state_reason_code) == ("Failed", "DependencyError")
    assert "No matching distribution found for missing" in config.state_reason


def test_versions_are_numbered_snapshots_and_unchanged_publishes_return_the_newest(harness: Harness) -> None:
    create(harness, timeout=10)
    first = harness.service.publish_version("fn", description="v1")
    again = harness.service.publish_version("fn")
    harness.service.update_configuration("fn", timeout=20)
    second = harness.service.publish_version("fn")

    assert (first.version, first.description, first.timeout) == ("1", "v1", 10)
    assert again == first
    assert (second.version, second.timeout) == ("2", 20)
    assert [c.version for c in harness.service.versions("fn")] == [LATEST, "1", "2"]
    assert harness.service.get("fn", "1").timeout == 10
    assert harness.service.get("fn:2").timeout == 20
    with pytest.raises(FunctionNotFound, match="function:fn:3"):
        harness.service.get("fn", "3")


def test_publish_with_a_stale_code_sha_is_refused(harness: Harness) -> None:
    create(harness)
    with pytest.raises(InvalidFunctionParameter, match=r"CodeSha256 \(abc\) is different from current CodeSha256"):
        harness.service.publish_version("fn", code_sha256="abc")


def test_revision_ids_guard_every_update(harness: Harness) -> None:
    first = create(harness)
    second = harness.service.update_configuration("fn", description="d", revision_id=first.revision_id)
    assert second.revision_id != first.revision_id

    with pytest.raises(PreconditionFailed, match="does not match the latest Revision Id"):
        harness.service.update_configuration("fn", timeout=5, revision_id=first.revision_id)
    with pytest.raises(PreconditionFailed):
        harness.service.update_code("fn", HELLO, revision_id=first.revision_id)
    with pytest.raises(PreconditionFailed):
        harness.service.publish_version("fn", revision_id=first.revision_id)


def test_a_writer_that_read_an_old_revision_loses(harness: Harness) -> None:
    stale = create(harness)
    harness.service.update_configuration("fn", timeout=9)

    with pytest.raises(PreconditionFailed):
        harness.registry.replace(dataclasses.replace(stale, timeout=4), stale.revision_id)
    assert harness.service.get("fn").timeout == 9


def test_update_code_replaces_the_blob_unless_a_version_still_uses_it(harness: Harness) -> None:
    create(harness)
    harness.service.publish_version("fn")
    published_blob = harness.service.get("fn", "1").code_blob_key
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})

    updated = harness.service.update_code("fn", new_code)
    again = harness.service.update_code("fn", HELLO)

    assert updated.code_sha256 != again.code_sha256
    assert set(harness.blobs.keys()) == {published_blob, again.code_blob_key}


def test_update_code_with_publish_answers_the_new_version(harness: Harness) -> None:
    create(harness)
    published = harness.service.update_code("fn", make_zip({"app.py": "def handler(e, c): pass\n"}), publish=True)
    assert published.version == "1"


def test_code_from_the_lake(harness: Harness) -> None:
    harness.lake["code", "fn.zip"] = HELLO

    config = harness.service.create("fn", handler="app.handler", code=LakeCode("code", "fn.zip"))

    assert config.code_size == len(HELLO)
    with pytest.raises(InvalidFunctionParameter, match=r"Error occurred while GetObject\. S3 Error Code: NoSuchKey"):
        harness.service.update_code("fn", LakeCode("code", "absent.zip"))


def test_aliases_point_at_versions_and_route_a_share_to_another(harness: Harness) -> None:
    create(harness)
    harness.service.publish_version("fn")
    harness.service.update_configuration("fn", timeout=7)
    harness.service.publish_version("fn")

    alias = harness.service.create_alias("fn", "live", "1", description="prod")
    assert harness.service.get("fn", "live").version == "1"
    assert harness.service.invoke("fn", b"{}", qualifier="live").executed_version == "1"

    routed = harness.service.update_alias("fn", "live", routing={"2": 1.0}, revision_id=alias.revision_id)
    assert routed.routing == {"2": 1.0}
    assert harness.service.invoke("fn:live", b"{}").executed_version == "2"
    assert [a.name for a in harness.service.aliases("fn")] == ["live"]
    assert harness.service.aliases("fn", version="2") == []

    with pytest.raises(PreconditionFailed):
        harness.service.update_alias("fn", "live", description="x", revision_id=alias.revision_id)
    with pytest.raises(ResourceConflict, match=r"the following aliases reference it: \['live'\]"):
        harness.service.delete("fn", "2")

    harness.service.delete_alias("fn", "live")
    with pytest.raises(
        FunctionNotFound, match="Alias not found: arn:aws:lambda:eu-west-1:000000000000:function:fn:live"
    ):
        harness.service.get_alias("fn", "live")
    harness.service.delete("fn", "2")
    assert [c.version for c in harness.service.versions("fn")] == [LATEST, "1"]


BAD_ALIASES: list[tuple[str, dict[str, float] | None, type[Exception], str]] = [
    ("9", None, FunctionNotFound, "function:fn:9"),
    ("1", {"1": 0.5}, InvalidFunctionParameter, "which is the alias's own FunctionVersion"),
    ("1", {"2": 1.5}, InvalidFunctionParameter, "expected a weight from 0.0 to 1.0"),
    ("$LATEST", {"1": 0.5}, InvalidFunctionParameter, "only allowed between published versions"),
    ("1", {"7": 0.5}, FunctionNotFound, "function:fn:7"),
]


def test_bad_aliases_are_refused(harness: Harness) -> None:
    create(harness)
    harness.service.publish_version("fn")
    harness.service.update_configuration("fn", timeout=7)
    harness.service.publish_version("fn")
    for version, routing, error, message in BAD_ALIASES:
        with pytest.raises(error, match=message):
            harness.service.create_alias("fn", "live", version, routing=routing)
    assert harness.service.aliases("fn") == []


def test_alias_names_may_not_be_all_digits_and_must_be_unique(harness: Harness) -> None:
    create(harness)
    with pytest.raises(InvalidFunctionParameter, match="not all digits"):
        harness.service.create_alias("fn", "123", LATEST)
    harness.service.create_alias("fn", "dev", LATEST)
    with pytest.raises(ResourceConflict, match="Alias already exists"):
        harness.service.create_alias("fn", "dev", LATEST)


def test_delete_removes_versions_aliases_key_and_code(harness: Harness) -> None:
    create(harness)
    harness.service.publish_version("fn")
    harness.service.create_alias("fn", "live", "1")

    with pytest.raises(InvalidFunctionParameter, match=r"\$LATEST version cannot be deleted"):
        harness.service.delete("fn", LATEST)
    harness.service.delete("arn:aws:lambda:eu-west-1:000000000000:function:fn")

    with pytest.raises(FunctionNotFound, match="Function not found: arn:aws:lambda:eu-west-1:000000000000:function:fn"):
        harness.service.get("fn")
    assert [k for k in harness.keys.list() if k.role == Role.FUNCTION] == []
    assert list(harness.blobs.keys()) == []
    assert harness.runtime.retired == [("fn", None)], "its warm workers are ended, not left to the idle timeout"
    create(harness)  # the name is free again


def unpacked(h: Harness) -> list[str]:
    """The code hashes unpacked under the functions' code folder (hidden staging folders left out)."""
    root = h.data_dir / "functions" / "code"
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


def folder_of(code: bytes) -> str:
    return hashlib.sha256(code).hexdigest()


def test_deleting_the_last_user_of_some_code_removes_its_unpacked_folder(harness: Harness) -> None:
    create(harness, "a")
    create(harness, "b")  # the same zip: one unpacked folder serves both
    harness.service.invoke("a", b"{}")
    assert unpacked(harness) == [folder_of(HELLO)]

    harness.service.delete("a")
    assert unpacked(harness) == [folder_of(HELLO)]  # b still runs it
    assert harness.service.invoke("b", b"{}").outcome.ok
    harness.service.delete("b")
    assert unpacked(harness) == []
    assert list(harness.blobs.keys("functions/")) == []

    create(harness, "a")  # the same code again unpacks again, and runs
    harness.service.invoke("a", b"{}")
    assert unpacked(harness) == [folder_of(HELLO)]


def test_deleting_a_version_or_replacing_code_removes_only_code_nothing_else_runs(harness: Harness) -> None:
    second = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
    third = make_zip({"app.py": "def handler(e, c):\n    return 3\n"})
    create(harness)
    harness.service.publish_version("fn")  # version 1 runs HELLO
    harness.service.update_code("fn", second, publish=True)  # version 2 and $LATEST run `second`
    assert unpacked(harness) == sorted([folder_of(HELLO), folder_of(second)])

    harness.service.update_code("fn", third)  # version 2 still runs `second`
    assert unpacked(harness) == sorted([folder_of(HELLO), folder_of(second), folder_of(third)])
    harness.service.delete("fn", "2")
    assert unpacked(harness) == sorted([folder_of(HELLO), folder_of(third)])
    harness.service.delete("fn", "1")
    assert unpacked(harness) == [folder_of(third)]
    harness.service.update_code("fn", HELLO)  # $LATEST was the last to run `third`
    assert unpacked(harness) == [folder_of(HELLO)]
    # The runtime is handed the folder again, unpacked again if it is gone.
    spec = harness.service.run_spec(harness.service.get("fn"))
    assert (spec.code_dir / "app.py").is_file()


def test_invoke_gives_the_handler_the_platforms_endpoint_and_the_functions_key(harness: Harness) -> None:
    create(harness, environment={"GREETING": "hi"}, memory=256, timeout=9)
    key = next(k for k in harness.keys.list() if k.role == Role.FUNCTION)

    result = harness.service.invoke("fn", b'{"a": 1}', request_id="req-1")

    spec, invocation = harness.runtime.calls[-1]
    assert (invocation.request_id, invocation.payload) == ("req-1", b'{"a": 1}')
    assert (spec.timeout, spec.memory_mb, spec.handler, spec.deps_dir) == (9.0, 256, "app.handler", None)
    assert (spec.code_dir / "app.py").exists()
    assert spec.environment["GREETING"] == "hi"
    assert spec.environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:8340"
    assert spec.environment["AWS_ACCESS_KEY_ID"] == key.access_key_id
    assert spec.environment["AWS_SECRET_ACCESS_KEY"] == key.secret_access_key
    assert spec.environment["AWS_DEFAULT_REGION"] == spec.environment["AWS_REGION"] == "eu-west-1"
    assert json.loads(result.outcome.payload)["event"] == {"a": 1}
    assert (result.request_id, result.executed_version, result.log_tail) == ("req-1", LATEST, None)


def test_invocations_are_recorded_newest_first(harness: Harness) -> None:
    create(harness)
    harness.service.invoke("fn", b"", request_id="r1")
    harness.runtime.function_error = "Unhandled"
    result = harness.service.invoke("fn", b"{}", request_id="r2", log_type="Tail")
    harness.service.invoke("fn", b"{}", request_id="r3", invocation_type=InvocationType.EVENT)

    records = harness.service.invocations("fn", limit=10)

    assert [r.request_id for r in records] == ["r3", "r2", "r1"]
    assert [r.status for r in records] == ["Error", "Error", "Success"]
    assert (records[1].error_type, records[1].invocation_type) == ("ValueError", "RequestResponse")
    assert records[0].invocation_type == "Event"
    assert records[2].cold_start and not records[1].cold_start
    assert records[2].log.startswith("START RequestId: r1")
    assert result.log_tail == records[1].log.encode()
    assert json.loads(harness.runtime.calls[0][1].payload) == {}  # an empty payload is the event {}
    assert [r.request_id for r in harness.service.invocations("fn", limit=2, newest_first=False)] == ["r1", "r2"]


def test_closing_writes_the_batched_records_and_stops_their_thread(harness: Harness) -> None:
    create(harness)
    before = set(threading.enumerate())
    harness.service.invoke("fn", b"{}", request_id="r1")  # a synchronous invoke's record is batched
    batching = [thread for thread in set(threading.enumerate()) - before if thread.name == "invocation-records"]
    harness.service.close()  # at once, within the batching delay

    assert [r.request_id for r in harness.service.invocations("fn", limit=10)] == ["r1"]
    assert batching and not any(thread.is_alive() for thread in batching)
    harness.service.invoke("fn", b"{}", request_id="r2")  # after closing, a record is written at once
    assert [r.request_id for r in harness.service.invocations("fn", limit=10)] == ["r2", "r1"]


def test_a_runtime_failure_is_recorded_and_raised(harness: Harness) -> None:
    create(harness)
    harness.runtime.fail_with = RuntimeError("worker pool closed")

    with pytest.raises(RuntimeError):
        harness.service.invoke("fn", b"{}", request_id="r1")

    (record,) = harness.service.invocations("fn")
    assert (record.status, record.error_type) == ("Error", "RuntimeError")


def test_payload_limits_and_json(harness: Harness) -> None:
    create(harness)
    with pytest.raises(PayloadTooLarge, match="Request must be smaller than 6291456 bytes"):
        harness.service.invoke("fn", b"1" * (6 * 1024 * 1024 + 1))
    with pytest.raises(InvalidRequestContent, match="Could not parse request body into json"):
        harness.service.invoke("fn", b"{not json")
    with pytest.raises(NotImplementedOperation):
        harness.service.invoke("fn", b"{}", invocation_type=InvocationType.DRY_RUN)
    with pytest.raises(FunctionNotFound):
        harness.service.invoke("nope", b"{}")


def test_dry_run_checks_the_function_can_run(harness: Harness) -> None:
    create(harness)
    assert harness.service.check_invocable("fn").version == LATEST
    assert harness.runtime.calls == []


@pytest.mark.parametrize(("size", "ok"), [(511, False), (512, True), (10240, True), (10241, False)])
def test_ephemeral_storage_is_512_to_10240_mb(size: int, ok: bool) -> None:
    from altostratus.functions import validation

    if ok:
        assert validation.ephemeral_storage(size) == size
    else:
        with pytest.raises(InvalidFunctionParameter, match=f"EphemeralStorage.Size={size}; expected 512 to 10240 MB"):
            validation.ephemeral_storage(size)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SubnetIds": ["s"], "Extra": 1}, "VpcConfig has \\['Extra'\\]"),
        ({"SubnetIds": ["s"], "Ipv6AllowedForDualStack": True}, "IPv4 only"),
        ({"SubnetIds": [""]}, "non-empty ids"),
        ({"SecurityGroupIds": ["g"]}, "without SubnetIds"),
    ],
)
def test_bad_vpc_configs_are_refused(config: dict[str, Any], message: str) -> None:
    from altostratus.functions import validation

    with pytest.raises(InvalidFunctionParameter, match=message):
        validation.vpc_config(config)
