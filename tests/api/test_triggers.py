"""Lake triggers with unmodified boto3 against a real `alto serve`: an upload runs a function, its output lands.

Also the loop guards: a function's own writes never trigger it, and a chain of triggered invocations stops
after 16 links however many functions take part.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.function_tools import LAKE_FOR_ALL, create_function, eventually, keys_under
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

# Records each run under OUT_BUCKET/runs/REQUEST-ID/ (the event and the trace header), then writes the uploaded
# object, upper-cased, to WRITE_TO ("bucket/prefix") when that is set.
FORWARDER = make_zip(
    {
        "app.py": (
            "import json, os, time, uuid\n"
            "from urllib.parse import unquote_plus\n"
            "import boto3\n"
            "s3 = boto3.client('s3')\n"
            "def handler(event, context):\n"
            "    started = time.time()\n"
            "    record = event['Records'][0]['s3']\n"
            "    bucket, key = record['bucket']['name'], unquote_plus(record['object']['key'])\n"
            "    run = {'started': started, 'event': event, 'trace': os.environ.get('_X_AMZN_TRACE_ID', '')}\n"
            '    runs = f"runs/{context.aws_request_id}/{uuid.uuid4().hex}"\n'
            "    s3.put_object(Bucket=os.environ['OUT_BUCKET'], Key=runs, Body=json.dumps(run).encode())\n"
            "    if os.environ.get('WRITE_TO'):\n"
            "        body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()\n"
            "        target, _, prefix = os.environ['WRITE_TO'].partition('/')\n"
            "        s3.put_object(Bucket=target, Key=prefix + key.rsplit('/', 1)[-1], Body=body.upper())\n"
        )
    }
)
REGION = "us-east-1"
_names = itertools.count()


@pytest.fixture(scope="module")
def trigger_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for the trigger tests."""
    with live_server(tmp_path_factory.mktemp("triggers") / "data", env=LAKE_FOR_ALL) as running:
        yield running


@pytest.fixture
def lam(trigger_server: LiveServer) -> Any:
    """A boto3 lambda client with the admin key."""
    return trigger_server.client("lambda")


@pytest.fixture
def s3(trigger_server: LiveServer) -> Any:
    """A boto3 s3 client with the admin key."""
    return trigger_server.client("s3")


@pytest.fixture
def name(s3: Any, request: pytest.FixtureRequest) -> str:
    """A fresh name for one test's function and buckets; NAME-runs is made for the runs it records."""
    made = f"tr{next(_names)}-{request.node.name}"[:30].lower().replace("_", "-").rstrip("-")
    s3.create_bucket(Bucket=f"{made}-runs")
    return made


def arn(function: str) -> str:
    """The function's ARN on the test server."""
    return f"arn:aws:lambda:{REGION}:000000000000:function:{function}"


def deploy(lam: Any, function: str, runs_bucket: str, write_to: str = "") -> None:
    """Deploy the FORWARDER as `function`."""
    variables = {"OUT_BUCKET": runs_bucket, **({"WRITE_TO": write_to} if write_to else {})}
    create_function(lam, function, FORWARDER, Timeout=30, Environment={"Variables": variables})


def notify(s3: Any, bucket: str, *rules: tuple[str, str, str]) -> None:
    """Send ObjectCreated events of bucket to functions: (function, prefix, suffix) per rule."""
    configs = []
    for function, prefix, suffix in rules:
        filters = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
        config: dict[str, Any] = {"LambdaFunctionArn": arn(function), "Events": ["s3:ObjectCreated:*"]}
        if filters:
            config["Filter"] = {"Key": {"FilterRules": filters}}
        configs.append(config)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
    )


def recorded(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """Every run recorded in bucket, in the order they started."""
    found = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys_under(s3, bucket)]
    return sorted(found, key=lambda run: float(run["started"]))


def test_an_upload_runs_the_function_with_the_s3_record_and_its_output_lands_in_the_lake(
    trigger_server: LiveServer, lam: Any, s3: Any, name: str
) -> None:
    s3.create_bucket(Bucket=name)
    deploy(lam, name, f"{name}-runs", write_to=f"{name}/clean/")
    notify(s3, name, (name, "raw/", ".txt"))

    put = s3.put_object(Bucket=name, Key="raw/hello world.txt", Body=b"hello, lake")

    cleaned = eventually(lambda: keys_under(s3, name, "clean/"))
    assert cleaned == ["clean/hello world.txt"]
    assert s3.get_object(Bucket=name, Key="clean/hello world.txt")["Body"].read() == b"HELLO, LAKE"
    (run,) = recorded(s3, f"{name}-runs")
    (record,) = run["event"]["Records"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == ("aws:s3", "ObjectCreated:Put", REGION)
    assert record["userIdentity"] == {"principalId": trigger_server.access_key}
    assert record["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert record["s3"]["bucket"]["name"] == name
    assert record["s3"]["object"]["key"] == "raw/hello+world.txt"
    assert record["s3"]["object"]["size"] == len(b"hello, lake")
    assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')


def test_prefix_and_suffix_filters_choose_what_runs(lam: Any, s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    deploy(lam, name, f"{name}-runs")
    notify(s3, name, (name, "raw/", ".txt"))

    for key in ("raw/skip.csv", "other/skip.txt", "raw/skip.TXT", "rawskip.txt", "raw/sub/deep.txt", "raw/take.txt"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")

    eventually(lambda: len(keys_under(s3, f"{name}-runs")) >= 2 or None)
    time.sleep(0.5)
    keys = sorted(run["event"]["Records"][0]["s3"]["object"]["key"] for run in recorded(s3, f"{name}-runs"))
    assert keys == ["raw/sub/deep.txt", "raw/take.txt"]


def test_a_function_writing_where_it_is_triggered_does_not_trigger_itself(lam: Any, s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    deploy(lam, name, f"{name}-runs", write_to=f"{name}/copies/")
    notify(s3, name, (name, "", ""))

    s3.put_object(Bucket=name, Key="first.txt", Body=b"once")

    eventually(lambda: keys_under(s3, name, "copies/"))
    time.sleep(1.0)
    assert len(recorded(s3, f"{name}-runs")) == 1
    assert keys_under(s3, name) == ["copies/first.txt", "first.txt"]


def test_a_loop_between_two_functions_stops_after_16_invocations(
    trigger_server: LiveServer, lam: Any, s3: Any, name: str
) -> None:
    s3.create_bucket(Bucket=name)
    deploy(lam, f"{name}-a", f"{name}-runs", write_to=f"{name}/b/")
    deploy(lam, f"{name}-b", f"{name}-runs", write_to=f"{name}/a/")
    notify(s3, name, (f"{name}-a", "a/", ""), (f"{name}-b", "b/", ""))

    s3.put_object(Bucket=name, Key="a/ball.txt", Body=b"ping")

    eventually(lambda: len(keys_under(s3, f"{name}-runs")) >= 16 or None)
    time.sleep(1.5)
    runs = recorded(s3, f"{name}-runs")
    assert len(runs) == 16
    lineage = [dict(p.split("=", 1) for p in run["trace"].split(";"))["Lineage"] for run in runs]
    assert [int(link.rsplit(":", 1)[1]) for link in lineage] == list(range(1, 17))
    assert len({run["trace"].split(";")[0] for run in runs}) == 1  # one Root for the whole chain
    log = (trigger_server.data_dir.parent / f"{trigger_server.data_dir.name}.log").read_text()
    assert f"lake event for {arn(name + '-a')} on s3://{name}/a/ball.txt dropped" in log


def test_notification_destinations_are_checked(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    for destination in (
        "arn:aws:sqs:us-east-1:000000000000:queue",
        "arn:aws:lambda:eu-west-1:000000000000:function:elsewhere",
        "arn:aws:lambda:us-east-1:000000000000:function:bad:name:here",
        "not-an-arn",
    ):
        config = {"LambdaFunctionArn": destination, "Events": ["s3:ObjectCreated:*"]}
        error = fails(
            lambda config=config: s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"LambdaFunctionConfigurations": [config]}
            ),
            "InvalidArgument",
            400,
        )
        assert "Unable to validate the following destination configurations" in error.response["Error"]["Message"]


def test_an_event_for_a_function_that_does_not_exist_is_skipped(trigger_server: LiveServer, s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    notify(s3, name, (f"{name}-never-deployed", "", ""))

    put = s3.put_object(Bucket=name, Key="orphan.txt", Body=b"x")

    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=name, Key="orphan.txt")["Body"].read() == b"x"
    log = (trigger_server.data_dir.parent / f"{trigger_server.data_dir.name}.log").read_text()
    assert f"lake event for {arn(name + '-never-deployed')} on s3://{name}/orphan.txt not delivered" in log
