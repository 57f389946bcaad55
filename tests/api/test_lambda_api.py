"""The Lambda API with unmodified boto3 against a real `alto serve`: real worker processes, real pip, real lake."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.errors import fails
from tests.api.function_tools import grant_lake
from tests.api.raw import pooled_ports
from tests.functions.wheels import build_wheel, make_zip
from tests.live_server import LiveServer, live_server

ROLE = "arn:aws:iam::000000000000:role/test"
ECHO = make_zip(
    {
        "app.py": (
            "def handler(event, context):\n"
            "    print('got', event)\n"
            "    if event.get('fail'):\n"
            "        raise ValueError('asked to fail')\n"
            "    return {'event': event, 'request_id': context.aws_request_id, 'version': context.function_version}\n"
        )
    }
)
_names = itertools.count()


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one tiny wheel, altotiny 1.0, for requirements.txt installs with no network."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    build_wheel(folder, "altotiny", "1.0", "VALUE = 42\n")
    return folder


@pytest.fixture(scope="module")
def functions_server(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[LiveServer]:
    """`alto serve` told (ALTO_FUNCTIONS_PIP_ARGS) to install requirements from the wheelhouse only."""
    env = {"ALTO_FUNCTIONS_PIP_ARGS": f"--no-index --find-links {wheelhouse}"}
    with live_server(tmp_path_factory.mktemp("functions") / "data", env=env) as running:
        yield running


@pytest.fixture
def lam(functions_server: LiveServer) -> Any:
    """A boto3 lambda client with the admin key."""
    return functions_server.client("lambda", read_timeout=120)


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A fresh function name for one test."""
    return f"f{next(_names)}-{request.node.name}"[:64]


def create(lam: Any, name: str, code: bytes = ECHO, **settings: Any) -> dict[str, Any]:
    defaults = {"Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler"}
    answer: dict[str, Any] = lam.create_function(FunctionName=name, Code={"ZipFile": code}, **{**defaults, **settings})
    return answer


def invoke(lam: Any, name: str, event: Any = None, **options: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **options)
    return answer, json.loads(answer["Payload"].read() or b"null")


def test_create_get_update_delete(lam: Any, name: str) -> None:
    created = create(lam, name, Timeout=30, MemorySize=256, Environment={"Variables": {"MODE": "test"}})

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(ECHO).digest()).decode()
    assert created["CodeSize"] == len(ECHO)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])
    assert (created["State"], created["LastUpdateStatus"], created["Version"]) == ("Active", "Successful", "$LATEST")
    assert (created["Timeout"], created["MemorySize"], created["Runtime"], created["Role"]) == (
        30,
        256,
        "python3.11",
        ROLE,
    )
    assert created["Environment"] == {"Variables": {"MODE": "test"}}

    got = lam.get_function(FunctionName=created["FunctionArn"])
    assert got["Configuration"]["RevisionId"] == created["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3"
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == created["CodeSha256"]

    updated = lam.update_function_configuration(FunctionName=name, Timeout=10, Description="echo")
    assert (updated["Timeout"], updated["Description"], updated["MemorySize"]) == (10, "echo", 256)
    assert updated["RevisionId"] != created["RevisionId"]
    new_code = make_zip({"app.py": "def handler(event, context):\n    return 'v2'\n"})
    recoded = lam.update_function_code(FunctionName=name, ZipFile=new_code)
    assert recoded["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert invoke(lam, name)[1] == "v2"

    assert lam.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    error = fails(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)
    assert (
        error.response["Error"]["Message"]
        == f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )


def test_answers_without_a_body_keep_the_connection_open(functions_server: LiveServer, name: str) -> None:
    # One client, so every call goes over the one keep-alive connection its pool holds.
    lam = functions_server.client("lambda", read_timeout=120)
    create(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    bodiless = [
        lambda: lam.invoke(FunctionName=name, InvocationType="DryRun"),
        lambda: lam.delete_alias(FunctionName=name, Name="live"),
        lambda: lam.delete_function(FunctionName=name, Qualifier="1"),
        lambda: lam.delete_function(FunctionName=name),
    ]
    ports = pooled_ports(lam)
    for call in bodiless:
        answer = call()
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
        if "Payload" in answer:
            assert answer["Payload"].read() == b""  # read whole, so the connection returns to the pool
        assert "content-type" not in answer["ResponseMetadata"]["HTTPHeaders"]
        ports |= pooled_ports(lam)
        assert lam.list_functions()["ResponseMetadata"]["HTTPStatusCode"] == 200  # the next call, same connection
        ports |= pooled_ports(lam)
    assert len(ports) == 1, f"the server closed the connection after a 204: the client used ports {ports}"
    fails(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_delete_removes_unpacked_code_no_other_function_runs(functions_server: LiveServer, lam: Any, name: str) -> None:
    code = make_zip({"app.py": f"def handler(event, context):\n    return {name!r}\n"})
    folder = functions_server.data_dir / "functions" / "code" / hashlib.sha256(code).hexdigest()
    create(lam, name, code)
    assert invoke(lam, name)[1] == name
    assert (folder / "app.py").is_file()
    lam.delete_function(FunctionName=name)
    assert not folder.exists()

    create(lam, f"{name}-a", code)
    create(lam, f"{name}-b", code)
    assert invoke(lam, f"{name}-a")[1] == name
    lam.delete_function(FunctionName=f"{name}-a")
    assert folder.is_dir()  # -b runs the same code
    assert invoke(lam, f"{name}-b")[1] == name
    lam.delete_function(FunctionName=f"{name}-b")
    assert not folder.exists()


def test_list_functions_pages_with_markers(lam: Any, name: str) -> None:
    names = [f"{name}-{n}" for n in range(3)]
    for each in names:
        create(lam, each)

    first = lam.list_functions(MaxItems=2)
    listed = [
        f["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for f in page["Functions"]
    ]

    assert len(first["Functions"]) == 2 and first["NextMarker"]
    assert [n for n in listed if n in names] == names
    assert len(listed) == len(set(listed))


def test_invoke_returns_the_payload_the_log_tail_and_the_version(lam: Any, name: str) -> None:
    create(lam, name)

    answer, payload = invoke(lam, name, {"a": 1}, LogType="Tail")

    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert payload["event"] == {"a": 1}
    assert payload["request_id"] == answer["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "got {'a': 1}" in log
    assert f"REPORT RequestId: {payload['request_id']}" in log


def test_an_unhandled_exception_comes_back_in_lambdas_error_shape(lam: Any, name: str) -> None:
    create(lam, name)

    answer, payload = invoke(lam, name, {"fail": True})

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "asked to fail")
    assert isinstance(payload["stackTrace"], list)


def test_versions_and_aliases(lam: Any, name: str) -> None:
    create(lam, name)
    first = lam.publish_version(FunctionName=name, Description="first")
    assert (first["ResponseMetadata"]["HTTPStatusCode"], first["Version"]) == (201, "1")
    assert first["FunctionArn"].endswith(f"{name}:1")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [(v["Version"], v["Timeout"]) for v in versions] == [("$LATEST", 9), ("1", 3), ("2", 9)]
    assert versions[0]["FunctionArn"].endswith(f"{name}:$LATEST")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name, MaxItems=2)["Versions"]] == [
        "$LATEST",
        "1",
    ]

    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert alias["AliasArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    assert invoke(lam, name, Qualifier="live")[0]["ExecutedVersion"] == "1"
    assert invoke(lam, f"{name}:2")[1]["version"] == "2"
    assert lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"

    moved = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId=alias["RevisionId"])
    assert moved["FunctionVersion"] == "2"
    fails(
        lambda: lam.update_alias(FunctionName=name, Name="live", RevisionId=alias["RevisionId"]),
        "PreconditionFailedException",
        412,
    )
    assert lam.get_alias(FunctionName=name, Name="live")["RevisionId"] == moved["RevisionId"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    fails(lambda: lam.delete_function(FunctionName=name, Qualifier="2"), "ResourceConflictException", 409)

    assert lam.delete_alias(FunctionName=name, Name="live")["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "2"]
    fails(lambda: lam.get_alias(FunctionName=name, Name="live"), "ResourceNotFoundException", 404)


def test_update_code_with_publish_and_stale_revision(lam: Any, name: str) -> None:
    created = create(lam, name)
    published = lam.update_function_code(FunctionName=name, ZipFile=ECHO, Publish=True)
    assert published["Version"] == "1"
    fails(
        lambda: lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=created["RevisionId"]),
        "PreconditionFailedException",
        412,
    )


def message(error: ClientError) -> str:
    return str(error.response["Error"]["Message"])


def test_bad_requests_get_lambdas_errors(lam: Any, name: str) -> None:
    create(lam, name)
    fails(lambda: create(lam, name), "ResourceConflictException", 409)
    assert "python3.11" in message(
        fails(lambda: create(lam, "x" + name[:60], Runtime="nodejs20.x"), "InvalidParameterValueException", 400)
    )
    assert "Timeout=901" in message(
        fails(lambda: create(lam, "x" + name[:60], Timeout=901), "InvalidParameterValueException", 400)
    )
    assert "MemorySize=20000" in message(
        fails(lambda: create(lam, "x" + name[:60], MemorySize=20000), "InvalidParameterValueException", 400)
    )
    assert "Could not unzip" in message(
        fails(lambda: create(lam, "x" + name[:60], code=b"not a zip"), "InvalidParameterValueException", 400)
    )
    traversal = make_zip({"app.py": "", "../../escape.py": ""})
    assert "'../../escape.py'" in message(
        fails(lambda: create(lam, "x" + name[:60], code=traversal), "InvalidParameterValueException", 400)
    )
    fails(
        lambda: lam.create_function(
            FunctionName="x" + name[:60], Runtime="python3.11", Role=ROLE, Code={"ZipFile": ECHO}
        ),
        "InvalidParameterValueException",
        400,
    )
    fails(lambda: lam.invoke(FunctionName=name, Payload=b"1" * (7 * 1024 * 1024)), "RequestTooLargeException", 413)
    fails(lambda: lam.invoke(FunctionName=name, Payload=b"{not json"), "InvalidRequestContentException", 400)
    fails(lambda: lam.invoke(FunctionName="missing-function", Payload=b"{}"), "ResourceNotFoundException", 404)
    assert lam.list_functions()["Functions"] is not None  # the server is still healthy


def test_a_missing_handler_module_fails_the_function_until_fixed(lam: Any, name: str) -> None:
    created = create(lam, name, Handler="main.handler")
    assert (created["State"], created["LastUpdateStatus"]) == ("Failed", "Failed")
    assert "main.py" in created["StateReason"]

    fails(lambda: lam.invoke(FunctionName=name, Payload=b"{}"), "ResourceConflictException", 409)
    fails(lambda: lam.invoke(FunctionName=name, InvocationType="DryRun"), "ResourceConflictException", 409)
    assert lam.update_function_configuration(FunctionName=name, Handler="app.handler")["State"] == "Active"
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_requirements_install_from_the_configured_wheelhouse(lam: Any, name: str) -> None:
    code = make_zip(
        {
            "app.py": "import altotiny\n\ndef handler(event, context):\n    return altotiny.VALUE\n",
            "requirements.txt": "altotiny==1.0\n",
        }
    )
    created = create(lam, name, code=code)
    assert (created["State"], created["StateReasonCode"]) == ("Pending", "Creating")
    error = fails(lambda: lam.invoke(FunctionName=name, Payload=b"{}"), "ResourceConflictException", 409)
    assert message(error) == (
        "The operation cannot be performed at this time. The function is currently in the following state: Pending"
    )

    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    assert invoke(lam, name)[1] == 42


def test_failed_requirements_leave_pips_error_in_the_state_reason(lam: Any, name: str) -> None:
    code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "no-such-package-here==1\n"})
    create(lam, name, code=code)

    with pytest.raises(Exception, match="Failed"):
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    config = lam.get_function_configuration(FunctionName=name)

    assert (config["State"], config["StateReasonCode"]) == ("Failed", "DependencyError")
    assert "No matching distribution found for no-such-package-here" in config["StateReason"]


def test_code_from_the_lake(functions_server: LiveServer, lam: Any, name: str) -> None:
    s3 = functions_server.client("s3")
    bucket = f"code-{next(_names)}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="builds/echo.zip", Body=ECHO)

    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "builds/echo.zip"},
    )

    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(ECHO).digest()).decode()
    assert invoke(lam, name, {"b": 2})[1]["event"] == {"b": 2}
    error = fails(
        lambda: lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="absent.zip"),
        "InvalidParameterValueException",
        400,
    )
    assert "S3 Error Code: NoSuchKey" in message(error)


LAKE_WRITER = make_zip(
    {
        "app.py": (
            "import boto3\n"
            "from botocore.exceptions import ClientError\n\n"
            "def denied(call):\n"
            "    try:\n"
            "        call()\n"
            "    except ClientError as error:\n"
            "        return error.response['Error']['Code']\n"
            "    return 'allowed'\n\n"
            "def handler(event, context):\n"
            "    s3 = boto3.client('s3')\n"
            "    body = b'written by ' + context.function_name.encode()\n"
            "    s3.put_object(Bucket=event['bucket'], Key='clean/out.txt', Body=body)\n"
            "    return {\n"
            "        'keys': [o['Key'] for o in s3.list_objects_v2(Bucket=event['bucket'])['Contents']],\n"
            "        'delete_bucket': denied(lambda: s3.delete_bucket(Bucket=event['bucket'])),\n"
            "        'create_bucket': denied(lambda: s3.create_bucket(Bucket='made-by-function')),\n"
            "        'list_functions': denied(lambda: boto3.client('lambda').list_functions()),\n"
            "    }\n"
        )
    }
)


def test_a_function_writes_to_the_lake_with_plain_boto3_and_its_key_is_limited(
    functions_server: LiveServer, lam: Any, name: str
) -> None:
    s3 = functions_server.client("s3")
    bucket = f"lake-{next(_names)}"
    s3.create_bucket(Bucket=bucket)
    create(lam, name, code=LAKE_WRITER, Timeout=30)
    denied, error = invoke(lam, name, {"bucket": bucket})
    assert denied["FunctionError"] == "Unhandled" and "AccessDenied" in error["errorMessage"], "not its trigger's"
    grant_lake(functions_server, name, bucket, after_use=True)

    answer, result = invoke(lam, name, {"bucket": bucket})

    assert "FunctionError" not in answer, result
    assert s3.get_object(Bucket=bucket, Key="clean/out.txt")["Body"].read() == f"written by {name}".encode()
    assert result == {
        "keys": ["clean/out.txt"],
        "delete_bucket": "AccessDenied",
        "create_bucket": "AccessDenied",
        "list_functions": "AccessDenied",
    }


def test_invocation_logs_through_cloudwatch_logs(functions_server: LiveServer, lam: Any, name: str) -> None:
    create(lam, name)
    first = invoke(lam, name, {"n": 1})[1]["request_id"]
    second = invoke(lam, name, {"n": 2})[1]["request_id"]
    logs = functions_server.client("logs")

    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}", orderBy="LastEventTime", descending=True)
    names = [s["logStreamName"] for s in streams["logStreams"]]
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", logStreamNames=names[:1])["events"]
    everything = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", limit=3)

    assert [n.rsplit("]", 1)[1] for n in names] == [second, first]
    assert names[0].endswith(f"[$LATEST]{second}")
    messages = [e["message"] for e in events]
    assert messages[0].startswith(f"START RequestId: {second} Version: $LATEST")
    assert "got {'n': 2}\n" in messages
    assert messages[-1].startswith(f"REPORT RequestId: {second}")
    assert len(everything["events"]) == 3 and everything["nextToken"]
    rest = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", nextToken=everything["nextToken"])
    whole = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")
    assert everything["events"] + rest["events"] == whole["events"]
    assert "nextToken" not in rest
    fails(lambda: logs.filter_log_events(logGroupName="/aws/lambda/never-existed"), "ResourceNotFoundException", 400)


SANDBOX_VIEW = make_zip(
    {
        "app.py": (
            "import os, socket\n"
            "def handler(event, context):\n"
            "    tmp = os.statvfs('/tmp')\n"
            "    return {'stage': os.environ.get('STAGE'), 'tmp_mb': tmp.f_blocks * tmp.f_frsize // 2**20,\n"
            "            'routes': open('/proc/net/route').read().count('\\n') - 1}\n"
        )
    }
)


def test_a_changed_environment_is_seen_by_the_very_next_invocation(lam: Any, name: str) -> None:
    create(lam, name, code=SANDBOX_VIEW, Environment={"Variables": {"STAGE": "one"}})
    assert invoke(lam, name)[1]["stage"] == "one"
    assert invoke(lam, name)[1]["stage"] == "one"  # a warm worker now holds the old value

    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"STAGE": "two"}})

    assert invoke(lam, name)[1]["stage"] == "two", "never the warm worker with the old configuration"


def test_ephemeral_storage_sizes_the_functions_tmp(lam: Any, name: str) -> None:
    created = create(lam, name, code=SANDBOX_VIEW, EphemeralStorage={"Size": 1024})
    assert created["EphemeralStorage"] == {"Size": 1024}
    assert invoke(lam, name)[1]["tmp_mb"] == 1024

    updated = lam.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 600})
    assert updated["EphemeralStorage"] == {"Size": 600}
    assert invoke(lam, name)[1]["tmp_mb"] == 600


def test_vpc_config_gives_a_function_its_network_and_is_checked(lam: Any, name: str) -> None:
    created = create(lam, name, code=SANDBOX_VIEW)
    assert "VpcConfig" not in created
    assert invoke(lam, name)[1]["routes"] == 0, "no route at all without a VpcConfig"

    vpc = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    updated = lam.update_function_configuration(FunctionName=name, VpcConfig=vpc)
    assert updated["VpcConfig"] == {**vpc, "VpcId": "vpc-00000000"}
    assert invoke(lam, name)[1]["routes"] >= 1, "a default route through the sandbox's uplink"

    error = fails(
        lambda: lam.update_function_configuration(FunctionName=name, VpcConfig={"SecurityGroupIds": ["sg-1"]}),
        "InvalidParameterValueException",
        400,
    )
    assert "SecurityGroupIds is set without SubnetIds" in message(error)
    removed = lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert "VpcConfig" not in removed
    assert invoke(lam, name)[1]["routes"] == 0


def test_requirements_that_are_not_plain_packages_are_refused(lam: Any, name: str) -> None:
    for line in ("-r /etc/shadow", "evil @ file:///root", "--extra-index-url http://127.0.0.1:9/"):
        code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "requirements.txt": line + "\n"})
        error = fails(lambda c=code: create(lam, name, code=c), "InvalidParameterValueException", 400)
        assert f"requirements.txt line 1 ({line!r})" in message(error)


def test_requirements_install_wheels_only(lam: Any, name: str, wheelhouse: Path) -> None:
    (wheelhouse / "altosdist-1.0.tar.gz").write_bytes(b"not really an sdist; pip must not even try to build it")
    code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "altosdist==1.0\n"})
    create(lam, name, code=code)
    config = eventually_settled(lam, name)
    assert config["State"] == "Failed"
    assert "No matching distribution found for altosdist==1.0" in config["StateReason"]


def eventually_settled(lam: Any, name: str) -> dict[str, Any]:
    """The configuration once its requirements installed or failed."""
    deadline = time.monotonic() + 120
    while True:
        config: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
        if config["State"] != "Pending" or time.monotonic() > deadline:
            return config
        time.sleep(0.2)
