"""Image models in the registry and on endpoints, in process: experiments on scikit-learn's digits registered
as `dl-experiment:` versions with their metrics, judged by the gate, served by A/B and shadow variants.

Two experiments train once per module, in seconds (more on a busy machine, so the tests that need them are marked
slow): `good`, a nearest neighbour (about 99% on the digits' test images), and `weak`, a linear classifier given one
epoch at a learning rate too small to learn anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from altostratus.app.platform import Platform, build_platform
from altostratus.core.caller import Caller
from altostratus.core.settings import Settings
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.hosting import EndpointStatus, VariantSpec
from altostratus.deploy.image_payloads import MAX_IMAGES, image_formats, read_images
from altostratus.deploy.payloads import Formats, UnreadableBody
from altostratus.deploy.serving import InvocationRequest, ModelFailed
from altostratus.deploy.stages import Stage
from altostratus.deploy.versions import GateStatus, ModelVersion
from altostratus.dl.experiment_store import ExperimentSpec, ExperimentStatus
from altostratus.lake.objects import ObjectMeta

WEAK_PARAMS = {"linear": {"epochs": 1, "learning_rate": 1e-7}}


def digit_pngs(count: int, start: int = 0) -> list[tuple[bytes, str]]:
    """Digits from scikit-learn's set as 8 x 8 grey PNGs (0-255, as builtin:digits scales them), with their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    found = []
    for index in range(start, start + count):
        pixels = np.round(digits.images[index] * (255 / 16)).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
        found.append((buffer.getvalue(), str(digits.target[index])))
    return found


def b64_instances(images: list[bytes]) -> bytes:
    """A JSON body of several images, base64-encoded."""
    return json.dumps({"instances": [{"b64": base64.b64encode(image).decode()} for image in images]}).encode()


def run_jobs(platform: Platform) -> None:
    """Run every queued job of the shared queue in this thread (training and the gate's phases)."""
    while platform.workers.run_one("test-worker"):
        pass


def test_image_bodies_are_read_by_their_type_or_their_first_byte() -> None:
    png = digit_pngs(1)[0][0]
    assert read_images(png, "image/png") == read_images(png, "") == [("the body", png)]
    assert read_images(b64_instances([png, png]), "") == [("instances[0]", png), ("instances[1]", png)]
    assert read_images(b64_instances([png]), "application/json") == [("instances[0]", png)]
    assert read_images(json.dumps({"b64": base64.b64encode(png).decode()}).encode(), "") == [("instances[0]", png)]
    assert image_formats("image/PNG; q=1", None) == Formats("image/png", "application/json")
    assert image_formats(None, "text/csv") == Formats("", "text/csv")
    assert image_formats("application/x-image", "*/*") == Formats("application/x-image", "application/json")
    with pytest.raises(UnreadableBody, match=f"holds {MAX_IMAGES + 1} images; at most {MAX_IMAGES} a request"):
        read_images(b64_instances([png] * (MAX_IMAGES + 1)), "application/json")
    with pytest.raises(UnreadableBody, match=r"instances\[0\]='x'; expected"):
        read_images(b'{"instances": ["x"]}', "application/json")
    with pytest.raises(UnreadableBody, match=r'must be \{"instances"'):
        read_images(b"[1, 2]", "application/json")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform over a temporary data directory; hosting runs its own worker, shared jobs run when asked."""
    folder = tmp_path_factory.mktemp("image-models")
    built = build_platform(Settings.load({}, config_file=folder / "absent.toml", data_dir=folder / "data"))
    built.hosting.start()
    yield built
    built.close()


@pytest.fixture(scope="module")
def experiments(platform: Platform) -> dict[str, str]:
    """The ids of the trained experiments `good` (nearest neighbour) and `weak` (an untrained linear classifier)."""
    started = {
        "good": platform.experiments.start(ExperimentSpec("good", "builtin:digits", families=("nearest",))),
        "weak": platform.experiments.start(
            ExperimentSpec("weak", "builtin:digits", families=("linear",), params=WEAK_PARAMS)
        ),
    }
    run_jobs(platform)
    for experiment in started.values():
        assert platform.experiments.get(experiment.experiment_id).status is ExperimentStatus.COMPLETED
    return {name: experiment.experiment_id for name, experiment in started.items()}


def promoted(platform: Platform, version: ModelVersion) -> ModelVersion:
    """Request the version's promotion, run the gate's jobs, and return the version as the gate left it."""
    platform.registry.request_promotion(version.group_name, version.version, actor="alice")
    run_jobs(platform)
    done = platform.registry.get_version(version.group_name, version.version)
    assert done.gate_status is not GateStatus.IN_PROGRESS
    return done


@pytest.mark.slow
def test_a_registered_experiment_keeps_its_onnx_export_provenance_and_metrics(
    platform: Platform, experiments: dict[str, str]
) -> None:
    registry, good = platform.registry, experiments["good"]
    registry.create_group("digits", actor="alice")
    version = registry.register("digits", f"dl-experiment:{good}", actor="alice")
    onnx = platform.experiments.artifact(good, kind="onnx")
    assert (version.artifact_sha256, version.artifact_size) == (hashlib.sha256(onnx).hexdigest(), len(onnx))
    assert version.stage is Stage.TEST
    assert version.source["kind"] == "dl-experiment" and version.source["family"] == "nearest"
    assert version.source["classes"] == [str(digit) for digit in range(10)]
    assert version.training_data["location"] == "builtin:digits" and version.training_data["test_images"] > 100
    assert version.parameters["learner"] == "nearest" and version.parameters["training_parameters"] == {"k": 3}
    assert version.parameters["device"] == "cpu"
    record = platform.experiments.get(good).record["families"]["nearest"]
    validation, test = version.metrics
    assert validation["values"] == {"validation_accuracy": record["validation_accuracy"]}
    assert test["records"] == platform.experiments.get(good).record["test_images"]
    assert test["values"]["accuracy"] == record["test_accuracy"] > 0.95
    assert test["values"]["macro_f1"] == record["macro_f1"]
    per_class = platform.experiments.get(good).evaluation["per_class"]  # type: ignore[index]
    assert {f"f1:{name}": figures["f1"] for name, figures in per_class.items()} == {
        name: value for name, value in test["values"].items() if name.startswith("f1:")
    }
    named = registry.register("digits", f"dl-experiment:{good}/nearest", actor="alice")
    assert named.artifact_sha256 == version.artifact_sha256
    assert registry.load_artifact(named) == onnx


@pytest.mark.slow
def test_an_onnx_export_from_the_lake_is_served_as_an_image_model(
    platform: Platform, experiments: dict[str, str]
) -> None:
    registry, lake = platform.registry, platform.lake
    lake.create_bucket("exports")
    writer = lake.object_writer("exports", "digits.onnx", ObjectMeta("application/octet-stream"))
    with writer:
        writer.write(platform.experiments.artifact(experiments["good"], kind="onnx"))
        writer.commit(Caller("alice"))
    registry.create_group("from-lake", actor="alice")
    version = registry.register("from-lake", "s3://exports/digits.onnx", actor="alice")
    image, label = digit_pngs(1, start=1700)[0]
    runner = registry.runner(registry.version_arn(version))
    answer = runner.answer(image, runner.formats("image/png", None))
    assert answer.outcomes == [label] and json.loads(answer.body)["predictions"][0]["label"] == label
    with pytest.raises(InvalidValue, match="does not hold a predict model"):
        registry.load(registry.version_arn(version))


@pytest.mark.slow
def test_sources_that_are_not_trained_models_are_refused(platform: Platform, experiments: dict[str, str]) -> None:
    registry, good = platform.registry, experiments["good"]
    registry.create_group("refusals", actor="alice")
    pending = platform.experiments.start(ExperimentSpec("pending", "builtin:digits", families=("linear",)))
    with pytest.raises(InvalidValue, match=rf"Experiment '{pending.experiment_id}' is PENDING; it must be COMPLETED"):
        registry.register("refusals", f"dl-experiment:{pending.experiment_id}", actor="alice")
    platform.experiments.stop(pending.experiment_id)
    with pytest.raises(InvalidValue, match=r"is STOPPED; it must be COMPLETED"):
        registry.register("refusals", f"dl-experiment:{pending.experiment_id}", actor="alice")
    with pytest.raises(InvalidValue, match=r"has no trained family 'cnn'; expected one of \['nearest'\]"):
        registry.register("refusals", f"dl-experiment:{good}/cnn", actor="alice")
    with pytest.raises(InvalidValue, match=r"Experiment 'nothing' does not exist"):
        registry.register("refusals", "dl-experiment:nothing", actor="alice")
    for malformed in ("dl-experiment:", f"dl-experiment:{good}/nearest/more"):
        with pytest.raises(InvalidValue, match=r"expected dl-experiment:<ExperimentId>\[/<family>\]"):
            registry.register("refusals", malformed, actor="alice")
    with pytest.raises(InvalidValue, match=r"expected ml-model:<MLModelId>, s3://bucket/key or dl-experiment:"):
        registry.register("refusals", "experiment:x", actor="alice")
    assert registry.list_versions("refusals").items == []
    run_jobs(platform)


@pytest.mark.slow
def test_an_export_changed_after_training_is_refused(platform: Platform, experiments: dict[str, str]) -> None:
    from altostratus.deploy.model_store import ArtifactRefused
    from altostratus.storage.blobs import put_chunks

    registry, good = platform.registry, experiments["good"]
    registry.create_group("tampered", actor="alice")
    key = platform.experiments.get(good).record["families"]["nearest"]["onnx_key"]
    original = b"".join(platform.blobs.read(key))
    put_chunks(platform.blobs, key, [original + b"\x00"])  # what another local user with the blobs could do
    try:
        with pytest.raises(ArtifactRefused, match="does not match the checksum its training recorded"):
            registry.register("tampered", f"dl-experiment:{good}", actor="alice")
    finally:
        put_chunks(platform.blobs, key, [original])
    assert registry.list_versions("tampered").items == []


@pytest.mark.slow
def test_the_gate_refuses_the_weak_model_and_promotes_the_good_one(
    platform: Platform, experiments: dict[str, str]
) -> None:
    registry = platform.registry
    registry.create_group("gated", actor="alice", policy={"metric": "accuracy", "min": 0.8})
    weak = promoted(platform, registry.register("gated", f"dl-experiment:{experiments['weak']}", actor="alice"))
    assert weak.stage is Stage.TEST and weak.gate_status is GateStatus.FAILED
    assert "accuracy" in weak.approval_description and "is below the minimum 0.8" in weak.approval_description
    good = promoted(platform, registry.register("gated", f"dl-experiment:{experiments['good']}", actor="alice"))
    assert good.stage is Stage.PROD and good.gate_status is GateStatus.COMPLETED

    # Without a metric in the policy an image model is judged on macro_f1 against the champion.
    registry.create_group("champion", actor="alice")
    first = promoted(platform, registry.register("champion", f"dl-experiment:{experiments['good']}", actor="a"))
    assert first.stage is Stage.PROD
    worse = promoted(platform, registry.register("champion", f"dl-experiment:{experiments['weak']}", actor="a"))
    assert worse.stage is Stage.TEST
    assert "macro_f1" in worse.approval_description and "the champion's (version 1)" in worse.approval_description
    assert registry.prod_version("champion").version == 1  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def endpoint(platform: Platform, experiments: dict[str, str]) -> str:
    """Endpoint `digits-ab`: variants good and weak at 50/50, and a shadow running the good model."""
    registry, service = platform.registry, platform.hosting.endpoints
    registry.create_group("served", actor="alice")
    for name in ("good", "weak"):
        arn = registry.version_arn(registry.register("served", f"dl-experiment:{experiments[name]}", actor="alice"))
        service.create_model(f"digits-{name}", arn, containers=[{"ModelPackageName": arn}], primary=True)
    variants = [VariantSpec("good", "digits-good", 50), VariantSpec("weak", "digits-weak", 50)]
    service.create_config("digits-ab-config", [*variants, VariantSpec("shadow", "digits-good", shadow=True)])
    service.create_endpoint("digits-ab", "digits-ab-config", actor="alice")
    deadline = time.monotonic() + 30
    while service.get_endpoint("digits-ab").status is not EndpointStatus.IN_SERVICE:
        assert time.monotonic() < deadline, service.get_endpoint("digits-ab")
        time.sleep(0.05)
    return "digits-ab"


def invoke(platform: Platform, body: bytes, content_type: str | None, **options: Any) -> tuple[str, Any]:
    """The variant that answered and its answer (JSON parsed)."""
    request = InvocationRequest("digits-ab", body, f"q{time.monotonic_ns()}", content_type=content_type, **options)
    answer = platform.hosting.runtime.invoke(request)
    body_text = answer.body.decode()
    return answer.variant, json.loads(body_text) if answer.content_type == "application/json" else body_text


@pytest.mark.slow
def test_an_ab_endpoint_serves_png_digits_from_both_variants_and_its_shadow(platform: Platform, endpoint: str) -> None:
    images = digit_pngs(80, start=1000)
    answered: Counter[str] = Counter()
    good_hits = 0
    for image, label in images:
        variant, answer = invoke(platform, image, "image/png")
        answered[variant] += 1
        (prediction,) = answer["predictions"]
        assert set(prediction) == {"label", "probability", "probabilities"}
        assert prediction["probability"] == max(prediction["probabilities"].values())
        assert abs(sum(prediction["probabilities"].values()) - 1) < 1e-4
        good_hits += variant == "good" and prediction["label"] == label
    assert set(answered) == {"good", "weak"} and min(answered.values()) > 15
    assert good_hits >= 0.9 * answered["good"]

    assert platform.hosting.runtime.drain_shadows(10)
    platform.hosting.recorder.flush()
    report = platform.hosting.reports.report(platform.hosting.endpoints.get_endpoint(endpoint))
    tallies = {(v.name, v.shadow): v.tally for v in report.variants}
    assert {key: tally.requests for key, tally in tallies.items()} == {
        ("good", False): answered["good"],
        ("weak", False): answered["weak"],
        ("shadow", True): len(images),
    }
    shadow_labels = tallies[("shadow", True)].labels
    assert sum(shadow_labels.values()) == len(images) and set(shadow_labels) <= {str(d) for d in range(10)}
    assert max(shadow_labels.values()) < len(images) / 2  # the good model tells the digits apart


@pytest.mark.slow
def test_several_images_as_base64_json_and_labels_as_csv(platform: Platform, endpoint: str) -> None:
    images = digit_pngs(5, start=1500)
    body = b64_instances([image for image, _ in images])
    variant, answer = invoke(platform, body, "application/json", target_variant="good")
    assert variant == "good"
    labels = [prediction["label"] for prediction in answer["predictions"]]
    assert len(labels) == 5 and sum(label == truth for label, (_, truth) in zip(labels, images, strict=True)) >= 4
    _, csv_answer = invoke(platform, body, None, target_variant="good", accept="text/csv")
    assert csv_answer.splitlines() == labels
    _, sniffed = invoke(platform, images[0][0], "application/x-image", target_variant="good")
    assert sniffed["predictions"][0]["label"] == labels[0]


@pytest.mark.slow
def test_bad_bodies_are_refused_as_sagemaker_refuses_them(platform: Platform, endpoint: str) -> None:
    with pytest.raises(InvalidValue, match=r"ContentType='text/csv'; expected one of \['image/jpeg', 'image/png'"):
        invoke(platform, b"1,2,3\n", "text/csv", target_variant="good")
    with pytest.raises(InvalidValue, match=r"Accept='image/png'; expected one of"):
        invoke(platform, digit_pngs(1)[0][0], "image/png", target_variant="good", accept="image/png")
    refused = [
        (b"not an image at all", "image/png", "the body is not an image"),
        (b64_instances([b"garbage"]), "application/json", r"instances\[0\] is not an image"),
        (b"{not json", "application/json", "the JSON body is not valid JSON"),
        (b'{"instances": [{"b64": "***"}]}', "application/json", r"instances\[0\].b64 is not base64"),
        (b'{"instances": []}', "application/json", "must be a non-empty list"),
        (b64_instances([digit_pngs(1)[0][0], b"garbage"]), "application/json", r"instances\[1\] is not an image"),
        (b"", "image/jpeg", "the request body is empty"),
    ]
    for body, content_type, message in refused:
        with pytest.raises(ModelFailed, match=r"Received client error \(400\) from variant good") as caught:
            invoke(platform, body, content_type, target_variant="good")
        assert caught.match(message)
