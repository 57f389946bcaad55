"""S3 conformance: ceph's s3-tests (functional/test_s3.py, one fixed selection) against Altostratus or SeaweedFS.

s3-tests is kept apart from the project (its own checkout and virtual environment, never committed here):

    git clone https://github.com/ceph/s3-tests S3TESTS          # (here: the `fetch` tool's mirror)
    python3 -m venv S3TESTS/.venv && S3TESTS/.venv/bin/pip install -r S3TESTS/requirements.txt
    .venv/bin/python benchmarks/s3_conformance.py {alto|weed} OUT_DIR --s3-tests S3TESTS

Each server runs on 127.0.0.1 on a fresh data folder with three principals (main, alt, tenant); the selection
leaves out what neither server is meant to have (IAM, STS, SNS, S3 Select, websites, logging, storage classes);
OUT_DIR gets the config, pytest's log and a JUnit XML file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import servers
from tests.live_server import live_server

# Left out: what neither server is meant to have, or only RGW has (the markers of s3-tests' pytest.ini).
LEFT_OUT = [
    "fails_on_aws",
    "appendobject",
    "bucket_logging",
    "bucket_logging_cleanup",
    "cloud_transition",
    "cloud_restore",
    "s3select",
    "s3website",
    "s3website_routing_rules",
    "s3website_redirect_location",
    "sns",
    "test_of_sts",
    "webidentity_test",
    "iam_account",
    "iam_cross_account",
    "iam_role",
    "iam_tenant",
    "iam_user",
    "user_policy",
    "role_policy",
    "group_policy",
    "group",
    "session_policy",
    "lifecycle_transition",
    "storage_class",
    "abac_test",
    "fails_without_logging_rollover",
    "target_by_bucket",
    "token_claims_trust_policy_test",
    "token_principal_tag_role_policy_test",
    "token_request_tag_trust_policy_test",
    "token_resource_tags_test",
    "token_role_tags_test",
    "token_tag_keys_test",
]
SELECTION = " and ".join(f"not {marker}" for marker in LEFT_OUT)


def conf(
    port: int, main: tuple[str, str, str, str], alt: tuple[str, str, str, str], tenant: tuple[str, str, str, str]
) -> str:
    def section(name: str, who: tuple[str, str, str, str]) -> str:
        key, secret, user_id, display = who
        return (
            f"[{name}]\ndisplay_name = {display}\nuser_id = {user_id}\nemail = {user_id}@example.com\n"
            f"api_name = default\naccess_key = {key}\nsecret_key = {secret}\ntenant = testx\n\n"
        )

    return (
        f"[DEFAULT]\nhost = 127.0.0.1\nport = {port}\nis_secure = False\nssl_verify = False\n\n"
        "[fixtures]\nbucket prefix = s3t-{random}-\niam name prefix = s3-tests-\niam path prefix = /s3-tests/\n\n"
        + section("s3 main", main)
        + section("s3 alt", alt)
        + section("s3 tenant", tenant)
        + section("iam", main)
        + section("iam root", main)
        + section("iam alt root", alt)
    )


def run_tests(config: Path, out: Path) -> int:
    env = {**os.environ, "S3TEST_CONF": str(config)}
    cmd = [
        str(S3TESTS / ".venv" / "bin" / "python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "s3tests/functional/test_s3.py",
        "-m",
        SELECTION,
        f"--junitxml={out / 'junit.xml'}",
        "-o",
        "junit_family=xunit1",
    ]
    with (out / "pytest.log").open("w") as log:
        return subprocess.call(cmd, cwd=S3TESTS, env=env, stdout=log, stderr=subprocess.STDOUT)


def alto(out: Path) -> None:
    data = Path(tempfile.mkdtemp()) / "data"
    env = {
        "ALTO_LAKE_SSE_C_OVER_HTTP": "true",
        "ALTO_LAKE_LIFECYCLE_DAY_SECONDS": "10",
        "ALTO_LAKE_LIFECYCLE_INTERVAL_SECONDS": "2",
    }
    with live_server(data, env=env) as server:

        def user(name: str) -> tuple[str, str, str, str]:
            alto_bin = str(Path(sys.executable).parent / "alto")
            made = json.loads(
                subprocess.check_output([alto_bin, "users", "create", name, "--data-dir", str(data), "--json"])
            )
            key = json.loads(
                subprocess.check_output([alto_bin, "keys", "create", "--user", name, "--data-dir", str(data), "--json"])
            )
            return key["AccessKeyId"], key["SecretAccessKey"], made["UserId"], name

        owner = server.client("s3").list_buckets()["Owner"]
        main = (server.access_key, server.secret_key, owner["ID"], owner.get("DisplayName", "account"))
        config = out / "s3tests.conf"
        config.write_text(conf(server.port, main, user("alt"), user("tenant")))
        print("alto exit", run_tests(config, out))


def weed(out: Path) -> None:
    others = {name: ("K" + uuid.uuid4().hex[:19].upper(), uuid.uuid4().hex) for name in ("alt", "tenant")}
    with servers.seaweedfs_server(Path(tempfile.mkdtemp()), others) as server:
        port = int(server.endpoint_url.rsplit(":", 1)[1])
        main = (server.access_key, server.secret_key, "admin", "admin")
        who = {name: (k, v, name, name) for name, (k, v) in others.items()}
        config = out / "s3tests.conf"
        config.write_text(conf(port, main, who["alt"], who["tenant"]))
        print("weed exit", run_tests(config, out))


S3TESTS = Path("s3-tests")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["alto", "weed"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--s3-tests", type=Path, required=True, help="a checkout of ceph/s3-tests with its .venv")
    given = parser.parse_args()
    S3TESTS = given.s3_tests.resolve()
    given.out.mkdir(parents=True, exist_ok=True)
    {"alto": alto, "weed": weed}[given.target](given.out)
