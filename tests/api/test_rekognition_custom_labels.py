"""Rekognition Custom Labels with unmodified boto3: projects, datasets from Ground Truth manifests in the lake,
versions trained as jobs (scikit-learn's digits, nearest neighbour and linear families), hosting and detection."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from sklearn.datasets import load_digits

from tests.live_server import ALTO, LiveServer, live_server

_names = itertools.count()
DIGITS = {0: "zero", 1: "one", 7: "seven"}
PER_DIGIT = 30
CLASSIFICATION = "groundtruth/image-classification"


def png(pixels: np.ndarray[Any, Any]) -> bytes:
    """A digit (0-16 grey levels) as an 8-bit grey PNG."""
    out = io.BytesIO()
    Image.fromarray((pixels * 15).astype(np.uint8), mode="L").save(out, format="PNG")
    return out.getvalue()


def line(source: str, label: str | None) -> str:
    """A Ground Truth image-classification JSON line (no label attribute for None)."""
    value: dict[str, Any] = {"source-ref": source}
    if label is not None:
        value |= {"digit": 0, "digit-metadata": {"class-name": label, "type": CLASSIFICATION, "confidence": 1}}
    return json.dumps(value)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose versions train the two fast families only, so a training takes seconds."""
    data = Path(tmp_path_factory.mktemp("custom-labels")) / "data"
    with live_server(data, env={"ALTO_CUSTOM_LABELS_FAMILIES": "nearest,linear"}) as running:
        yield running


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def digits(s3: Any) -> dict[str, Any]:
    """Digit PNGs in the lake, the bytes of some held back for detection, and a manifest of them all."""
    s3.create_bucket(Bucket="digits")
    data = load_digits()
    lines, held = [], {}
    for digit, label in DIGITS.items():
        images = data.images[data.target == digit]
        for i, pixels in enumerate(images[:PER_DIGIT]):
            key = f"images/{label}/{i}.png"
            s3.put_object(Bucket="digits", Key=key, Body=png(pixels))
            lines.append(line(f"s3://digits/{key}", label))
        held[label] = [png(p) for p in images[PER_DIGIT : PER_DIGIT + 5]]
    s3.put_object(Bucket="digits", Key="train.manifest", Body="\n".join(lines).encode())
    return {"bucket": "digits", "manifest": "train.manifest", "lines": lines, "held": held}


def put_manifest(s3: Any, name: str, lines: list[str]) -> dict[str, Any]:
    s3.put_object(Bucket="digits", Key=name, Body="\n".join(lines).encode())
    return {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": name}}}


def code_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def project_of(version_arn: str) -> tuple[str, str]:
    """(the project's ARN, the version's name) of a version's ARN."""
    head, rest = version_arn.split("/version/")
    name, _created = rest.split("/")
    project_name = head.split(":project/")[1]
    return f"{head.split(':project/')[0]}:project/{project_name}/{_project_created[project_name]}", name


_project_created: dict[str, str] = {}


def new_project(rekognition: Any) -> str:
    arn = str(rekognition.create_project(ProjectName=f"digits-{next(_names)}")["ProjectArn"])
    _project_created[arn.split("/")[1]] = arn.rsplit("/", 1)[1]
    return arn


def version_of(rekognition: Any, arn: str) -> dict[str, Any]:
    """DescribeProjectVersions' description of one version."""
    project, name = project_of(arn)
    [found] = rekognition.describe_project_versions(ProjectArn=project, VersionNames=[name])[
        "ProjectVersionDescriptions"
    ]
    assert found["ProjectVersionArn"] == arn
    return dict(found)


def wait_for(rekognition: Any, arn: str, passing: set[str], timeout: float = 180) -> dict[str, Any]:
    """The version once its status leaves `passing` (the states it goes through on the way)."""
    deadline = time.monotonic() + timeout
    while True:
        found = version_of(rekognition, arn)
        if found["Status"] not in passing or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


# ---- projects -------------------------------------------------------------------------------------------------


def test_projects_are_created_described_paged_and_deleted(rekognition: Any) -> None:
    arns = [new_project(rekognition) for _ in range(3)]
    assert all(arn.startswith("arn:aws:rekognition:us-east-1:000000000000:project/digits-") for arn in arns)
    assert all(arn.rsplit("/", 1)[1].isdigit() for arn in arns)  # the creation time in ms, as Rekognition forms it
    names = [arn.split("/")[1] for arn in arns]
    [described] = rekognition.describe_projects(ProjectNames=[names[0]])["ProjectDescriptions"]
    assert described["ProjectArn"] == arns[0] and described["Status"] == "CREATED"
    assert described["Datasets"] == [] and described["Feature"] == "CUSTOM_LABELS"
    pages = list(rekognition.get_paginator("describe_projects").paginate(PaginationConfig={"PageSize": 2}))
    listed = [p["ProjectArn"] for page in pages for p in page["ProjectDescriptions"]]
    assert set(arns) <= set(listed) and len(listed) == len(set(listed)) and len(pages) >= 2
    assert rekognition.delete_project(ProjectArn=arns[0])["Status"] == "DELETING"
    assert rekognition.describe_projects(ProjectNames=[names[0]])["ProjectDescriptions"] == []
    assert code_of(lambda: rekognition.delete_project(ProjectArn=arns[0]))[0] == "ResourceNotFoundException"


def test_project_names_are_checked(rekognition: Any) -> None:
    arn = new_project(rekognition)
    name = arn.split("/")[1]
    assert code_of(lambda: rekognition.create_project(ProjectName=name))[0] == "ResourceInUseException"
    for odd in ["has space", "slash/in", "ünïcode", "semi;colon", "x" * 256]:
        code, message = code_of(lambda odd=odd: rekognition.create_project(ProjectName=odd))
        assert code == "InvalidParameterException" and "ProjectName" in message
    for arn_like in [
        "arn:aws:rekognition:us-east-1:000000000000:project/x",
        "arn:aws:rekognition:us-east-1:000000000000:project/has space/1",
        arn + "/extra",
    ]:
        assert code_of(lambda a=arn_like: rekognition.delete_project(ProjectArn=a))[0] == "InvalidParameterException"
    unknown = arn.rsplit("/", 1)[0] + "/1"
    assert code_of(lambda: rekognition.delete_project(ProjectArn=unknown))[0] == "ResourceNotFoundException"
    code, _ = code_of(lambda: rekognition.create_project(ProjectName="moderation", Feature="CONTENT_MODERATION"))
    assert code == "InvalidParameterException"


# ---- datasets -------------------------------------------------------------------------------------------------


def test_a_dataset_from_a_manifest_is_described_listed_and_filtered(rekognition: Any, digits: dict[str, Any]) -> None:
    project = new_project(rekognition)
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": "train.manifest"}}}
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    assert "/dataset/train/" in arn and arn.startswith(project.rsplit("/", 1)[0] + "/")
    described = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
    assert described["Status"] == "CREATE_COMPLETE" and described["StatusMessageCode"] == "SUCCESS"
    total = PER_DIGIT * len(DIGITS)
    stats = described["DatasetStats"]
    assert stats == {"LabeledEntries": total, "TotalEntries": total, "TotalLabels": 3, "ErrorEntries": 0}
    entries = [
        e
        for page in rekognition.get_paginator("list_dataset_entries").paginate(
            DatasetArn=arn, PaginationConfig={"PageSize": 25}
        )
        for e in page["DatasetEntries"]
    ]
    assert [json.loads(e)["source-ref"] for e in entries] == [json.loads(x)["source-ref"] for x in digits["lines"]]
    sevens = rekognition.list_dataset_entries(DatasetArn=arn, ContainsLabels=["seven"])["DatasetEntries"]
    assert len(sevens) == PER_DIGIT and all(json.loads(e)["digit-metadata"]["class-name"] == "seven" for e in sevens)
    named = rekognition.list_dataset_entries(DatasetArn=arn, SourceRefContains="one/1")["DatasetEntries"]
    assert sorted(json.loads(e)["source-ref"] for e in named) == [
        f"s3://digits/images/one/{i}.png" for i in (1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
    ]
    assert rekognition.list_dataset_entries(DatasetArn=arn, Labeled=False)["DatasetEntries"] == []
    labels = rekognition.list_dataset_labels(DatasetArn=arn)["DatasetLabelDescriptions"]
    assert [(x["LabelName"], x["LabelStats"]["EntryCount"]) for x in labels] == [
        ("one", PER_DIGIT),
        ("seven", PER_DIGIT),
        ("zero", PER_DIGIT),
    ]
    [project_described] = rekognition.describe_projects(ProjectNames=[project.split("/")[1]])["ProjectDescriptions"]
    assert [(d["DatasetArn"], d["DatasetType"], d["Status"]) for d in project_described["Datasets"]] == [
        (arn, "TRAIN", "CREATE_COMPLETE")
    ]


def test_a_line_naming_a_missing_image_is_kept_with_its_error(
    rekognition: Any, s3: Any, digits: dict[str, Any]
) -> None:
    # Custom Labels' non-terminal ERROR_INVALID_IMAGE: the line stays, with an errors list; the dataset is created.
    unlabeled_image = json.loads(digits["lines"][1])["source-ref"]
    lines = [*digits["lines"][:9], line("s3://digits/images/gone.png", "zero"), line(unlabeled_image, None)]
    project = new_project(rekognition)
    source = put_manifest(s3, "one-missing.manifest", lines)
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    described = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["DatasetStats"] == {"LabeledEntries": 10, "TotalEntries": 11, "TotalLabels": 1, "ErrorEntries": 1}
    [erred] = rekognition.list_dataset_entries(DatasetArn=arn, HasErrors=True)["DatasetEntries"]
    [error] = json.loads(erred)["errors"]
    assert error["code"] == "ERROR_INVALID_IMAGE" and "s3://digits/images/gone.png" in error["message"]
    [unlabeled] = rekognition.list_dataset_entries(DatasetArn=arn, Labeled=False)["DatasetEntries"]
    assert "digit-metadata" not in json.loads(unlabeled)


def test_manifests_that_cannot_be_used_fail_the_dataset(rekognition: Any, s3: Any, digits: dict[str, Any]) -> None:
    project = new_project(rekognition)
    missing = {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": "no-such.manifest"}}}
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=missing)["DatasetArn"]
    described = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
    assert described["Status"] == "CREATE_FAILED" and described["StatusMessageCode"] == "CLIENT_ERROR"
    assert "ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT" in described["StatusMessage"]
    assert code_of(lambda: rekognition.list_dataset_entries(DatasetArn=arn))[0] == "ResourceNotReadyException"
    rekognition.delete_dataset(DatasetArn=arn)
    broken = [line(f"s3://digits/gone/{i}.png", "zero") for i in range(3)] + digits["lines"][:5] + ["{not json"]
    source = put_manifest(s3, "mostly-broken.manifest", broken)
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    described = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
    assert described["Status"] == "CREATE_FAILED"
    assert (
        "ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST" in described["StatusMessage"]
        and "4 of the 9" in described["StatusMessage"]
    )


def test_datasets_are_copied_made_empty_and_one_of_each_type(rekognition: Any, digits: dict[str, Any]) -> None:
    project = new_project(rekognition)
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": "train.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    code, message = code_of(lambda: rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN"))
    assert code == "ResourceAlreadyExistsException" and train in message
    other = new_project(rekognition)
    copied = rekognition.create_dataset(ProjectArn=other, DatasetType="TEST", DatasetSource={"DatasetArn": train})
    stats = rekognition.describe_dataset(DatasetArn=copied["DatasetArn"])["DatasetDescription"]["DatasetStats"]
    assert stats["TotalEntries"] == PER_DIGIT * len(DIGITS)
    empty = rekognition.create_dataset(ProjectArn=other, DatasetType="TRAIN")["DatasetArn"]
    assert rekognition.describe_dataset(DatasetArn=empty)["DatasetDescription"]["DatasetStats"]["TotalEntries"] == 0
    rekognition.delete_dataset(DatasetArn=empty)
    assert code_of(lambda: rekognition.describe_dataset(DatasetArn=empty))[0] == "ResourceNotFoundException"
    both = {**source, "DatasetArn": train}
    code, _ = code_of(lambda: rekognition.create_dataset(ProjectArn=other, DatasetType="TRAIN", DatasetSource=both))
    assert code == "InvalidParameterException"
    # Deleting the project takes its datasets with it.
    rekognition.delete_project(ProjectArn=project)
    assert code_of(lambda: rekognition.describe_dataset(DatasetArn=train))[0] == "ResourceNotFoundException"


# ---- versions: training, hosting, detection -------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(rekognition: Any, s3: Any, digits: dict[str, Any]) -> dict[str, Any]:
    """A project with a TRAIN dataset, a version trained on it (test split off), and how long training took."""
    project = new_project(rekognition)
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": "train.manifest"}}}
    rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)
    s3.create_bucket(Bucket="results")
    started = time.monotonic()
    arn = rekognition.create_project_version(
        ProjectArn=project,
        VersionName="v1",
        OutputConfig={"S3Bucket": "results", "S3KeyPrefix": "custom/"},
        VersionDescription="digits, fast families",
    )["ProjectVersionArn"]
    first = version_of(rekognition, arn)
    found = wait_for(rekognition, arn, {"TRAINING_IN_PROGRESS"})
    seconds = time.monotonic() - started
    return {"project": project, "arn": arn, "first": first, "done": found, "seconds": seconds, "held": digits["held"]}


@pytest.mark.slow
def test_a_version_trains_and_reports_its_evaluation(rekognition: Any, s3: Any, trained: dict[str, Any]) -> None:
    arn = trained["arn"]
    first = trained["first"]
    assert "/version/v1/" in arn and first["Status"] in ("TRAINING_IN_PROGRESS", "TRAINING_COMPLETED")
    if first["Status"] == "TRAINING_IN_PROGRESS":
        assert first["StatusMessage"].startswith("The model is being trained")
    done = trained["done"]
    assert done["Status"] == "TRAINING_COMPLETED", done["StatusMessage"]
    evaluation = done["EvaluationResult"]
    assert 0.9 <= evaluation["F1Score"] <= 1.0  # 0, 1 and 7 of the digits are easy to tell apart
    where = evaluation["Summary"]["S3Object"]
    assert where["Bucket"] == "results" and where["Name"].startswith("custom/")
    summary = json.loads(s3.get_object(Bucket=where["Bucket"], Key=where["Name"])["Body"].read())
    assert summary["AggregatedEvaluationResults"]["F1Score"] == pytest.approx(evaluation["F1Score"])
    assert sorted(x["Label"] for x in summary["LabelEvaluationResults"]) == ["one", "seven", "zero"]
    assert done["BillableTrainingTimeInSeconds"] >= 0 and done["TrainingEndTimestamp"] >= done["CreationTimestamp"]
    assert done["VersionDescription"] == "digits, fast families"
    assert done["OutputConfig"] == {"S3Bucket": "results", "S3KeyPrefix": "custom/"}
    # Without a TEST dataset a fifth of each label was split off for testing, as Custom Labels does.
    assert done["TestingDataResult"]["Input"]["AutoCreate"] is True
    test_manifest = done["TestingDataResult"]["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
    test_lines = s3.get_object(Bucket="results", Key=test_manifest["Name"])["Body"].read().decode().splitlines()
    train_manifest = done["TrainingDataResult"]["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
    train_lines = s3.get_object(Bucket="results", Key=train_manifest["Name"])["Body"].read().decode().splitlines()
    assert (len(train_lines), len(test_lines)) == (72, 18)
    assert not {json.loads(x)["source-ref"] for x in train_lines} & {json.loads(x)["source-ref"] for x in test_lines}


@pytest.mark.slow
def test_a_version_is_started_detects_and_is_stopped(rekognition: Any, s3: Any, trained: dict[str, Any]) -> None:
    arn = trained["arn"]
    image = {"Bytes": trained["held"]["seven"][1]}
    code, message = code_of(lambda: rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image))
    assert code == "ResourceNotReadyException" and "TRAINING_COMPLETED" in message
    assert rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
    running = wait_for(rekognition, arn, {"STARTING"}, timeout=60)
    assert running["Status"] == "RUNNING" and running["MinInferenceUnits"] == 1
    code, _ = code_of(lambda: rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1))
    assert code == "ResourceInUseException"
    labels = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=0)["CustomLabels"]
    assert labels[0]["Name"] == "seven" and len(labels) == 3
    assert all(0 <= x["Confidence"] <= 100 for x in labels)
    assert [x["Confidence"] for x in labels] == sorted((x["Confidence"] for x in labels), reverse=True)
    [best] = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=0, MaxResults=1)[
        "CustomLabels"
    ]
    assert best == labels[0]
    # Without MinConfidence, each label's threshold chosen in training applies: the seven passes, the others not.
    assert [
        x["Name"] for x in rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image)["CustomLabels"]
    ] == ["seven"]
    assert rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=100.0)[
        "CustomLabels"
    ] in (
        [],
        [labels[0]],
    )
    s3.put_object(Bucket="results", Key="probe.png", Body=image["Bytes"])
    from_lake = rekognition.detect_custom_labels(
        ProjectVersionArn=arn, Image={"S3Object": {"Bucket": "results", "Name": "probe.png"}}, MinConfidence=0
    )
    assert from_lake["CustomLabels"] == labels
    code, _ = code_of(lambda: rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": b"not an image"}))
    assert code == "InvalidImageFormatException"
    gone = {"S3Object": {"Bucket": "results", "Name": "no-such.png"}}
    code, _ = code_of(lambda: rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=gone))
    assert code == "InvalidS3ObjectException"
    code, message = code_of(
        lambda: rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=101)
    )
    assert code == "InvalidParameterException" and "MinConfidence" in message
    # A running model is neither deleted nor is its project.
    assert code_of(lambda: rekognition.delete_project_version(ProjectVersionArn=arn))[0] == "ResourceInUseException"
    assert code_of(lambda: rekognition.delete_project(ProjectArn=trained["project"]))[0] == "ResourceInUseException"
    assert rekognition.stop_project_version(ProjectVersionArn=arn)["Status"] == "STOPPING"
    assert wait_for(rekognition, arn, {"STOPPING"}, timeout=30)["Status"] == "STOPPED"
    code, message = code_of(lambda: rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image))
    assert code == "ResourceNotReadyException" and "STOPPED" in message
    assert code_of(lambda: rekognition.stop_project_version(ProjectVersionArn=arn))[0] == "ResourceInUseException"


@pytest.mark.slow
def test_versions_need_a_train_dataset_and_distinct_names(rekognition: Any, trained: dict[str, Any]) -> None:
    empty = new_project(rekognition)
    output = {"S3Bucket": "results"}
    code, message = code_of(
        lambda: rekognition.create_project_version(ProjectArn=empty, VersionName="v1", OutputConfig=output)
    )
    assert code == "InvalidParameterException" and "TRAIN dataset" in message
    project = trained["project"]
    code, _ = code_of(
        lambda: rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=output)
    )
    assert code == "ResourceInUseException"
    for odd in ["with space", "a/b", "ü"]:
        code, message = code_of(
            lambda odd=odd: rekognition.create_project_version(ProjectArn=project, VersionName=odd, OutputConfig=output)
        )
        assert code == "InvalidParameterException" and "VersionName" in message
    code, message = code_of(
        lambda: rekognition.create_project_version(
            ProjectArn=project, VersionName="v9", OutputConfig={"S3Bucket": "no-such-bucket"}
        )
    )
    assert code == "InvalidParameterException" and "no-such-bucket" in message
    bad_arn = trained["arn"].replace("/version/v1/", "/version/v 1/")
    assert code_of(lambda: rekognition.start_project_version(ProjectVersionArn=bad_arn, MinInferenceUnits=1))[0] == (
        "InvalidParameterException"
    )
    unknown = trained["arn"].replace("/version/v1/", "/version/v404/")
    assert (
        code_of(lambda: rekognition.stop_project_version(ProjectVersionArn=unknown))[0] == "ResourceNotFoundException"
    )


@pytest.mark.slow
def test_a_test_dataset_is_used_and_training_on_broken_images_fails(
    rekognition: Any, s3: Any, digits: dict[str, Any]
) -> None:
    for i in range(6):
        s3.put_object(Bucket="digits", Key=f"broken/{i}.png", Body=b"these bytes are no PNG")
    project = new_project(rekognition)
    lines = digits["lines"]
    corrupt = line("s3://digits/broken/0.png", "zero")
    train = put_manifest(s3, "part-train.manifest", [corrupt] + [x for i, x in enumerate(lines) if i % 3])
    test = put_manifest(s3, "part-test.manifest", [x for i, x in enumerate(lines) if not i % 3])
    rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=train)
    rekognition.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource=test)
    output = {"S3Bucket": "results", "S3KeyPrefix": "split/"}
    arn = rekognition.create_project_version(ProjectArn=project, VersionName="given", OutputConfig=output)[
        "ProjectVersionArn"
    ]
    done = wait_for(rekognition, arn, {"TRAINING_IN_PROGRESS"})
    assert done["Status"] == "TRAINING_COMPLETED" and done["TestingDataResult"]["Input"]["AutoCreate"] is False
    # The corrupt image was left out of training, and the status message says so.
    assert "1 images could not be read" in done["StatusMessage"] and "broken/0.png" in done["StatusMessage"]
    summary = done["EvaluationResult"]["Summary"]["S3Object"]
    details = json.loads(s3.get_object(Bucket=summary["Bucket"], Key=summary["Name"])["Body"].read())
    assert details["EvaluationDetails"]["NumberOfTestingImages"] == len(lines) // 3
    # Images that are not images: every one is skipped, so the training fails and says why.
    broken = new_project(rekognition)
    junk = put_manifest(
        s3, "junk.manifest", [line(f"s3://digits/broken/{i}.png", "zero" if i % 2 else "one") for i in range(6)]
    )
    rekognition.create_dataset(ProjectArn=broken, DatasetType="TRAIN", DatasetSource=junk)
    arn = rekognition.create_project_version(ProjectArn=broken, VersionName="junk", OutputConfig=output)[
        "ProjectVersionArn"
    ]
    failed = wait_for(rekognition, arn, {"TRAINING_IN_PROGRESS"})
    assert failed["Status"] == "TRAINING_FAILED" and failed["StatusMessage"]
    assert "EvaluationResult" not in failed
    code, _ = code_of(lambda: rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1))
    assert code == "InvalidParameterException"
    assert rekognition.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    assert rekognition.delete_project(ProjectArn=broken)["Status"] == "DELETING"


@pytest.mark.slow
def test_versions_are_paged_and_deleted_in_order(rekognition: Any, trained: dict[str, Any]) -> None:
    project = trained["project"]
    output = {"S3Bucket": "results", "S3KeyPrefix": "more/"}
    made = [
        rekognition.create_project_version(ProjectArn=project, VersionName=f"extra-{i}", OutputConfig=output)[
            "ProjectVersionArn"
        ]
        for i in range(2)
    ]
    for arn in made:
        wait_for(rekognition, arn, {"TRAINING_IN_PROGRESS"})
    pages = list(
        rekognition.get_paginator("describe_project_versions").paginate(
            ProjectArn=project, PaginationConfig={"PageSize": 2}
        )
    )
    listed = [v["ProjectVersionArn"] for page in pages for v in page["ProjectVersionDescriptions"]]
    assert listed[:2] == made[::-1] and trained["arn"] in listed and len(pages) == 2
    assert code_of(lambda: rekognition.delete_project(ProjectArn=project))[0] == "ResourceInUseException"
    for arn in made:
        assert rekognition.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    left = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert [v["ProjectVersionArn"] for v in left] == [trained["arn"]]


def test_a_key_without_write_permission_is_refused(
    server: LiveServer, rekognition: Any, digits: dict[str, Any]
) -> None:
    project = new_project(rekognition)
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "digits", "Name": "train.manifest"}}}
    dataset = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    version = f"{project.rsplit('/', 1)[0]}/version/v1/{project.rsplit('/', 1)[1]}"
    made = subprocess.run(
        [ALTO, "keys", "create", "--role", "read-only", "--json", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)
    reader = server.client("rekognition", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    writes = [
        lambda: reader.create_project(ProjectName="sneaky"),
        lambda: reader.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource=source),
        lambda: reader.delete_dataset(DatasetArn=dataset),
        lambda: reader.create_project_version(
            ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "digits"}
        ),
        lambda: reader.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1),
        lambda: reader.stop_project_version(ProjectVersionArn=version),
        lambda: reader.delete_project_version(ProjectVersionArn=version),
        lambda: reader.delete_project(ProjectArn=project),
    ]
    for write in writes:
        with pytest.raises(ClientError) as denied:
            write()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Nothing changed, and the key may still read.
    [described] = reader.describe_projects(ProjectNames=[project.split("/")[1]])["ProjectDescriptions"]
    assert [d["DatasetArn"] for d in described["Datasets"]] == [dataset]
    assert reader.describe_projects(ProjectNames=["sneaky"])["ProjectDescriptions"] == []
    assert reader.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"] == []
    assert len(reader.list_dataset_entries(DatasetArn=dataset, MaxResults=5)["DatasetEntries"]) == 5
    stranger = server.client("rekognition", access_key="AKIANOSUCHKEY0000000", secret_key="x" * 40)
    with pytest.raises(ClientError) as unknown:
        stranger.describe_projects()
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.slow
def test_a_running_model_still_runs_after_a_restart(
    server: LiveServer, rekognition: Any, trained: dict[str, Any]
) -> None:
    # Its state is in the metadata store and its model in the blob store: the new process loads it on first use.
    arn, image = trained["arn"], {"Bytes": trained["held"]["zero"][0]}
    rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    assert wait_for(rekognition, arn, {"STARTING", "STOPPING", "STOPPED"}, timeout=60)["Status"] == "RUNNING"
    before = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=0)["CustomLabels"]
    server.stop()
    server.start()
    assert version_of(rekognition, arn)["Status"] == "RUNNING"
    after = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=0)["CustomLabels"]
    assert after == before and after[0]["Name"] == "zero"
    rekognition.stop_project_version(ProjectVersionArn=arn)
    assert wait_for(rekognition, arn, {"STOPPING"}, timeout=30)["Status"] == "STOPPED"


@pytest.mark.slow
def test_the_default_families_train_and_the_best_serves(tmp_path: Path) -> None:
    """The product's families (nearest, linear, CNN, transfer learning), the best chosen by validation."""
    with live_server(tmp_path / "data") as product:
        rekognition, s3 = product.client("rekognition"), product.client("s3")
        s3.create_bucket(Bucket="digits")
        data = load_digits()
        lines = []
        for digit, label in DIGITS.items():
            for i, pixels in enumerate(data.images[data.target == digit][:PER_DIGIT]):
                s3.put_object(Bucket="digits", Key=f"{label}/{i}.png", Body=png(pixels))
                lines.append(line(f"s3://digits/{label}/{i}.png", label))
        project = rekognition.create_project(ProjectName="every-family")["ProjectArn"]
        source = put_manifest(s3, "all.manifest", lines)
        rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)
        arn = rekognition.create_project_version(
            ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "digits", "S3KeyPrefix": "out/"}
        )["ProjectVersionArn"]
        deadline = time.monotonic() + 600
        while True:
            [done] = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
            if done["Status"] != "TRAINING_IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert done["Status"] == "TRAINING_COMPLETED", done["StatusMessage"]
        assert done["EvaluationResult"]["F1Score"] >= 0.9
        rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
        while rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["Status"] == (
            "STARTING"
        ):
            time.sleep(0.2)
        image = {"Bytes": png(data.images[data.target == 1][PER_DIGIT])}
        labels = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image, MinConfidence=0)["CustomLabels"]
        assert labels[0]["Name"] == "one"
        rekognition.stop_project_version(ProjectVersionArn=arn)
