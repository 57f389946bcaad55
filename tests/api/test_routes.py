"""Routes end to end: `alto routes` on a real server's data directory, real functions deployed with boto3,
requests under /api/ sent with httpx, answered as API Gateway HTTP APIs with Lambda proxy integration answer."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from altostratus.cli.main import cli
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

APP = make_zip(
    {
        "app.py": (
            "import base64, json\n"
            "def echo(event, context):\n"
            "    headers = {'content-type': 'application/json'}\n"
            "    return {'statusCode': 200, 'headers': headers, 'body': json.dumps(event)}\n"
            "def plain(event, context):\n"
            "    return {'hello': 'world'}\n"
            "def text(event, context):\n"
            "    return 'hello'\n"
            "def shaped(event, context):\n"
            "    return {'statusCode': 201, 'headers': {'content-type': 'text/plain', 'x-custom': 'yes'},\n"
            "            'cookies': ['a=1; Path=/', 'b=2'], 'body': 'created'}\n"
            "def reverse(event, context):\n"
            "    data = base64.b64decode(event['body']) if event['isBase64Encoded'] else event['body'].encode()\n"
            "    return {'statusCode': 200, 'headers': {'content-type': 'application/octet-stream'},\n"
            "            'isBase64Encoded': True, 'body': base64.b64encode(data[::-1]).decode()}\n"
            "def fail(event, context):\n"
            "    raise ValueError('asked to fail')\n"
        )
    }
)
HANDLERS = ("echo", "plain", "text", "shaped", "reverse", "fail")
# (method, path, function, public)
ROUTES = [
    ("GET", "/items/{id}", "echo", True),
    ("GET", "/items/special", "plain", True),
    ("POST", "/echo", "echo", True),
    ("POST", "/reverse", "reverse", True),
    ("GET", "/plain", "plain", True),
    ("GET", "/text", "text", True),
    ("GET", "/shaped", "shaped", True),
    ("ANY", "/files/{proxy+}", "echo", True),
    ("GET", "/fail", "fail", True),
    ("GET", "/ghost", "ghost", True),
    ("POST", "/bookings", "echo", False),
]


def alto(server: LiveServer, *args: str) -> str:
    """Run an `alto routes` command on the server's data directory; its output."""
    result = CliRunner().invoke(cli, ["routes", *args, "--data-dir", str(server.data_dir)])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the test functions deployed and the ROUTES added through the CLI."""
    with live_server(tmp_path_factory.mktemp("routes") / "data") as server:
        lam = server.client("lambda")
        for name in HANDLERS:
            lam.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role="arn:aws:iam::000000000000:role/test",
                Handler=f"app.{name}",
                Code={"ZipFile": APP},
            )
        for method, path, function, public in ROUTES:
            alto(server, "add", method, path, "--function", function, *(["--public"] if public else []))
        yield server


@pytest.fixture(scope="module")
def api(routed: LiveServer) -> Iterator[httpx.Client]:
    """An httpx client for the server's /api/, once the server has seen the routes."""
    with httpx.Client(base_url=routed.endpoint + "/api", timeout=60) as client:
        wait_for(client, "GET", "/plain", lambda r: r.status_code == 200)
        yield client


def wait_for(client: httpx.Client, method: str, path: str, done: Any, seconds: float = 5.0, **request: Any) -> float:
    """Repeat a request until done(response); how long that took."""
    start = time.monotonic()
    while not done(client.request(method, path, **request)):
        assert time.monotonic() - start < seconds, f"{method} {path} not as expected after {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


def first_accepted(client: httpx.Client, path: str, body: Any, key: str, seconds: float = 2.5) -> httpx.Response:
    """POST with an API key until the server, which reloads keys every second, stops refusing it."""
    deadline = time.monotonic() + seconds
    while (answer := client.post(path, json=body, headers={"x-api-key": key})).status_code == 403:
        assert time.monotonic() < deadline, f"a new API key was not accepted within {seconds} s"
        time.sleep(0.05)
    return answer


def api_key(server: LiveServer, *args: str) -> dict[str, Any]:
    created: dict[str, Any] = json.loads(alto(server, "keys", "create", "--json", *args))
    return created


def test_get_with_path_parameters_query_string_headers_and_cookies(api: httpx.Client) -> None:
    answer = api.get(
        "/items/42?tag=a&tag=b&q=x%20y",
        headers=[("X-Trace", "one"), ("x-trace", "two"), ("Cookie", "s=1; theme=dark")],
    )

    event = answer.json()
    assert answer.status_code == 200
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "tag=a&tag=b&q=x%20y"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "a,b", "q": "x y"}
    assert event["headers"]["x-trace"] == "one,two"
    assert event["cookies"] == ["s=1", "theme=dark"]
    assert "cookie" not in event["headers"]
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": api.headers["user-agent"],
    }
    assert context["stage"] == "$default"
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    assert event["isBase64Encoded"] is False
    assert "body" not in event


def test_literal_path_beats_parameter_and_greedy_takes_the_rest(api: httpx.Client) -> None:
    assert api.get("/items/special").json() == {"hello": "world"}
    assert api.delete("/files/a/b/c.txt").json()["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_post_json_body_arrives_as_text(api: httpx.Client) -> None:
    event = api.post("/echo", json={"guests": 2}).json()

    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"guests": 2}
    assert event["headers"]["content-type"] == "application/json"


def test_binary_body_round_trips_through_base64(api: httpx.Client) -> None:
    data = os.urandom(64 * 1024)

    answer = api.post("/reverse", content=data, headers={"content-type": "application/octet-stream"})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.content == data[::-1]
    event = api.post("/echo", content=data[:100], headers={"content-type": "image/png"}).json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data[:100]


def test_a_dict_without_status_code_or_a_string_is_json_with_200(api: httpx.Client) -> None:
    plain, text = api.get("/plain"), api.get("/text")

    assert (plain.status_code, plain.headers["content-type"], plain.json()) == (
        200,
        "application/json",
        {"hello": "world"},
    )
    assert (text.status_code, text.headers["content-type"], text.json()) == (200, "application/json", "hello")


def test_status_code_headers_and_cookies_are_mapped(api: httpx.Client) -> None:
    answer = api.get("/shaped")

    assert answer.status_code == 201
    assert answer.headers["x-custom"] == "yes"
    assert answer.headers["content-type"] == "text/plain"
    assert answer.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    assert answer.text == "created"


def test_no_route_is_404(api: httpx.Client) -> None:
    for method, path in [("GET", "/nothing"), ("PUT", "/plain"), ("GET", "/"), ("GET", "/files")]:
        answer = api.request(method, path)
        assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"}), (method, path)


def test_function_error_and_missing_function_are_500(api: httpx.Client) -> None:
    failed, missing = api.get("/fail"), api.get("/ghost")

    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})
    assert "ValueError: asked to fail" in failed.headers["x-alto-error"]
    assert (missing.status_code, missing.json()) == (500, {"message": "Internal Server Error"})
    assert "ResourceNotFoundException" in missing.headers["x-alto-error"]


def test_body_over_10_mb_is_413(api: httpx.Client) -> None:
    answer = api.post("/echo", content=b"x" * (11 * 1024 * 1024), headers={"content-type": "text/plain"})

    assert (answer.status_code, answer.json()) == (413, {"message": "Request Entity Too Large"})


def test_private_route_needs_a_key_or_signature(api: httpx.Client, routed: LiveServer) -> None:
    key = api_key(routed, "--name", "mobile")

    missing = api.post("/bookings", json={})
    wrong = api.post("/bookings", json={}, headers={"x-api-key": "not-a-key"})
    right = first_accepted(api, "/bookings", {"n": 1}, key["Value"])

    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert (wrong.status_code, wrong.json()) == (403, {"message": "Forbidden"})
    assert right.status_code == 200
    assert json.loads(right.json()["body"]) == {"n": 1}


def test_disabled_key_is_refused(api: httpx.Client, routed: LiveServer) -> None:
    key = api_key(routed, "--name", "to-disable")
    first_accepted(api, "/bookings", {}, key["Value"])

    alto(routed, "keys", "disable", key["Id"])

    wait_for(api, "POST", "/bookings", lambda r: r.status_code == 403, seconds=2.5, headers={"x-api-key": key["Value"]})


def signed_call(api: httpx.Client, routed: LiveServer, key: str, secret: str) -> httpx.Response:
    """POST /api/bookings?x=1 signed with SigV4 for execute-api."""
    url = f"{routed.endpoint}/api/bookings?x=1"
    request = AWSRequest(method="POST", url=url, data=b'{"signed": true}', headers={"content-type": "application/json"})
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    return api.post(url, content=request.body, headers=dict(request.headers))


def test_sigv4_signed_request_is_accepted(api: httpx.Client, routed: LiveServer) -> None:
    def signed(secret: str) -> httpx.Response:
        return signed_call(api, routed, routed.access_key, secret)

    good, bad = signed(routed.secret_key), signed(routed.secret_key[:-1] + "x")

    assert good.status_code == 200
    assert json.loads(good.json()["body"]) == {"signed": True}
    assert (bad.status_code, bad.json()) == (403, {"message": "Forbidden"})
    assert "SignatureDoesNotMatch" in bad.headers["x-alto-error"]


def test_a_read_only_key_may_not_invoke_a_route(api: httpx.Client, routed: LiveServer) -> None:
    done = CliRunner().invoke(
        cli, ["keys", "create", "--role", "read-only", "--json", "--data-dir", str(routed.data_dir)]
    )
    assert done.exit_code == 0, done.output
    key = json.loads(done.stdout)

    refused = signed_call(api, routed, key["AccessKeyId"], key["SecretAccessKey"])

    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    assert "is read-only: it may not invoke route POST /bookings" in refused.headers["x-alto-error"]


def test_key_over_its_rate_gets_429(api: httpx.Client, routed: LiveServer) -> None:
    key = api_key(routed, "--name", "slow", "--rate", "1", "--burst", "2")
    first = first_accepted(api, "/bookings", {}, key["Value"])

    more = [api.post("/bookings", json={}, headers={"x-api-key": key["Value"]}) for _ in range(3)]

    assert [first.status_code, more[0].status_code] == [200, 200]
    assert (more[-1].status_code, more[-1].json()) == (429, {"message": "Too Many Requests"})


def test_new_and_deleted_routes_are_seen_within_two_seconds(api: httpx.Client, routed: LiveServer) -> None:
    alto(routed, "add", "GET", "/late", "--function", "plain", "--public")
    added = wait_for(api, "GET", "/late", lambda r: r.status_code == 200, seconds=2.5)
    alto(routed, "delete", "GET", "/late")
    deleted = wait_for(api, "GET", "/late", lambda r: r.status_code == 404, seconds=2.5)

    assert added < 2.0 and deleted < 2.0


def test_signed_s3_requests_still_reach_a_bucket_named_api(routed: LiveServer) -> None:
    s3 = routed.client("s3")
    s3.create_bucket(Bucket="api")
    s3.put_object(Bucket="api", Key="bookings", Body=b"lake data")

    assert s3.get_object(Bucket="api", Key="bookings")["Body"].read() == b"lake data"
