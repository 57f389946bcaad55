"""The demo's story, on a running platform: data into the lake, a pipeline run, simulated traffic with outcomes.

The platform runs in this process and answers HTTP on `endpoint_url` (the cleaning function reaches the lake
through boto3, so it needs the server); the traffic goes through the endpoint runtime in-process.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from altostratus.core.waiting import wait_for
from altostratus.demo.data import COLUMNS, RECODE, TARGET, DemoData, features_and_label, load
from altostratus.deploy.serving import InvocationRequest
from altostratus.functions.packaging import zip_folder
from altostratus.pipelines import Run, State, parse

if TYPE_CHECKING:
    from altostratus.app import Platform

NAME = "adult-demo"
BUCKET = "alto-demo-lake"
FUNCTION = "csv-cleaner"
ENDPOINT = f"{NAME}-ep"
GROUP = f"{NAME}-models"
OUTCOME_BATCH = 200


@dataclasses.dataclass(frozen=True)
class DemoOptions:
    """What to run the story on."""

    data: Path
    cleaner: Path
    rows: int | None = None
    traffic: int = 4000
    challenger_weight: float = 50.0
    timeout: float = 900.0


@dataclasses.dataclass
class DemoResult:
    """What happened: the run, the traffic sent, the outcomes fed and how long it all took."""

    data: DemoData
    spec_text: str
    bucket: str
    function: str
    endpoint: str
    group: str
    run: dict[str, Any]
    requests: int = 0
    failed_requests: int = 0
    served: dict[str, int] = dataclasses.field(default_factory=dict)
    outcomes: int = 0
    seconds: float = 0.0
    prod_version: int | None = None
    endpoint_weights: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """Whether the run finished every step."""
        return bool(self.run.get("state") == State.COMPLETED.value)


def pipeline_yaml(options: DemoOptions, data: DemoData) -> str:
    """The demo's pipeline file: clean, train two candidates, gate, A/B deploy, promote on the experiment."""
    if data.synthetic:
        auc_min = 0.6
    elif data.train_rows < 10000:
        auc_min = 0.8
    else:
        auc_min = 0.85
    expected = options.traffic * min(options.challenger_weight, 100 - options.challenger_weight) / 100
    min_outcomes = max(1, int(expected * 0.7))
    return f"""\
name: {NAME}
source: {{bucket: {BUCKET}, prefix: raw/}}
preprocess: {{function: {FUNCTION}, output_prefix: clean/}}
train:
  model_type: BINARY
  target: {TARGET}
  split: 0.7
  candidates:
    - {{name: sgd, algorithm: sgd}}
    - {{name: auto, algorithm: auto}}
gate:
  group: {GROUP}
  policy: {{metric: auc, min: {auc_min}}}
deploy: {{endpoint: {ENDPOINT}, challenger_weight: {options.challenger_weight:g}}}
promote: {{when: experiment, min_outcomes: {min_outcomes}, max_wait: 300}}
"""


def run_story(platform: Platform, endpoint_url: str, key_id: str, secret: str, options: DemoOptions) -> DemoResult:
    """Run the whole story; what happened (the run may have failed: see result.completed)."""
    started = time.monotonic()
    data = load(options.data, rows=options.rows, traffic=options.traffic)
    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=platform.settings.region
    )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    _setup(s3, session.client("lambda", endpoint_url=endpoint_url), options)
    s3.put_object(
        Bucket=BUCKET,
        Key="raw/adult-train.csv",
        Body=data.train_csv.encode(),
        Metadata={"columns": ",".join(COLUMNS)},
        ContentType="text/csv",
    )
    spec_text = pipeline_yaml(options, data)
    run = platform.pipelines.start(parse(spec_text), trigger="alto demo")
    result = DemoResult(data, spec_text, BUCKET, FUNCTION, ENDPOINT, GROUP, {})
    deadline = time.monotonic() + options.timeout
    run = _wait_for_deploy(platform, run.run_id, deadline)
    if run.step("deploy").state is State.COMPLETED and not run.state.is_final:
        _send_traffic(platform, data, result)
    final = platform.pipelines.wait(run.run_id, max(1.0, deadline - time.monotonic()))
    result.run = final.to_dict()
    prod = platform.registry.prod_version(GROUP)
    result.prod_version = prod.version if prod else None
    endpoint = platform.hosting.endpoints.find_endpoint(ENDPOINT)
    if endpoint is not None:
        result.endpoint_weights = {v.name: v.current_weight for v in endpoint.production}
    result.seconds = time.monotonic() - started
    return result


def _setup(s3: Any, lambda_client: Any, options: DemoOptions) -> None:
    """The lake bucket and the cleaning function (created, or brought up to date on a second demo)."""
    try:
        s3.create_bucket(Bucket=BUCKET)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    code = zip_folder(options.cleaner)
    environment = {"Variables": {"RECODE": RECODE}}
    try:
        lambda_client.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/alto",
            Handler="app.handler",
            Code={"ZipFile": code},
            Environment=environment,
            Timeout=300,
            MemorySize=1024,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceConflictException":
            raise
        lambda_client.update_function_code(FunctionName=FUNCTION, ZipFile=code)
        _until_updated(lambda_client)
        lambda_client.update_function_configuration(FunctionName=FUNCTION, Environment=environment, Timeout=300)
        _until_updated(lambda_client)


def _until_updated(lambda_client: Any) -> None:
    wait_for(
        lambda: lambda_client.get_function_configuration(FunctionName=FUNCTION).get("LastUpdateStatus"),
        lambda status: status in (None, "Successful", "Failed"),
        timeout=60,
        interval=0.1,
    )


def _wait_for_deploy(platform: Platform, run_id: str, deadline: float) -> Run:
    return wait_for(
        lambda: platform.pipelines.get(run_id),
        lambda run: run.state.is_final or run.step("deploy").state.is_final,
        timeout=max(0.0, deadline - time.monotonic()),
        interval=0.2,
    )


def _send_traffic(platform: Platform, data: DemoData, result: DemoResult) -> None:
    """Each held-out row through the endpoint with an InferenceId; the true labels fed back as outcomes."""
    runtime, feed = platform.hosting.runtime, platform.hosting.outcomes
    pending: list[str] = []
    for cells in data.traffic_rows:
        record, label = features_and_label(cells)
        inference_id = uuid.uuid4().hex
        request = InvocationRequest(
            ENDPOINT, json.dumps(record).encode(), inference_id, content_type="application/json"
        )
        result.requests += 1
        try:
            answer = runtime.invoke(request)
        except Exception:  # a failed request counts as an error in the variant's statistics; go on
            result.failed_requests += 1
            continue
        result.served[answer.variant] = result.served.get(answer.variant, 0) + 1
        pending.append(f"{inference_id},{label}")
        if len(pending) >= OUTCOME_BATCH:
            result.outcomes += feed.put(ENDPOINT, "\n".join(pending), "alto demo")
            pending = []
    if pending:
        result.outcomes += feed.put(ENDPOINT, "\n".join(pending), "alto demo")
