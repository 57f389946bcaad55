"""Endpoints served in-process through the routing layer with real predict models: split, stickiness, shadows."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from altostratus.deploy.errors import DoesNotExist, InUse, InvalidValue
from altostratus.deploy.hosting import EndpointStatus, VariantSpec
from altostratus.deploy.serving import InvocationRequest, ModelFailed
from tests.deploy.hosting_harness import ARN, HostingHarness, records


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostingHarness]:
    made = HostingHarness(tmp_path_factory.mktemp("hosting"))
    yield made
    made.close()


def body(record: dict[str, str]) -> bytes:
    return json.dumps(record).encode()


def invoke(hosting: HostingHarness, endpoint: str, n: int = 0, **options: str) -> str:
    request = InvocationRequest(endpoint, body(records(1, seed=n)[0]), inference_id=f"{endpoint}-{n}", **options)
    return hosting.runtime.invoke(request).variant


def test_endpoint_goes_in_service_with_its_config_weights(hosting: HostingHarness) -> None:
    endpoint = hosting.endpoint("split", {"champion": ("good", 90), "challenger": ("bad", 10)})
    assert endpoint.status is EndpointStatus.IN_SERVICE
    assert [(v.name, v.current_weight, v.desired_weight) for v in endpoint.production] == [
        ("champion", 90, 90),
        ("challenger", 10, 10),
    ]


def test_ten_thousand_invocations_split_within_one_and_a_half_points(hosting: HostingHarness) -> None:
    body_bytes = body(records(1)[0])
    counts = Counter(
        hosting.runtime.invoke(InvocationRequest("split", body_bytes, inference_id=f"i{n}")).variant
        for n in range(10_000)
    )
    assert abs(counts["champion"] / 10_000 - 0.90) <= 0.015
    assert abs(counts["challenger"] / 10_000 - 0.10) <= 0.015


def test_same_session_never_switches_variant(hosting: HostingHarness) -> None:
    for session in range(200):
        seen = {invoke(hosting, "split", n, session_id=f"user-{session}") for n in range(5)}
        assert len(seen) == 1


def test_new_session_gets_an_id_and_expiry(hosting: HostingHarness) -> None:
    answer = hosting.runtime.invoke(
        InvocationRequest("split", body(records(1)[0]), inference_id="ns", session_id="NEW_SESSION")
    )
    assert answer.new_session is not None
    session, _, expires = answer.new_session.partition("; Expires=")
    assert expires.endswith("Z")
    again = {invoke(hosting, "split", n, session_id=session) for n in range(5)}
    assert again == {answer.variant}


def test_target_variant_is_honoured_whatever_the_weight(hosting: HostingHarness) -> None:
    assert {invoke(hosting, "split", n, target_variant="challenger") for n in range(50)} == {"challenger"}
    with pytest.raises(InvalidValue, match="TargetVariant='nope' is not a variant"):
        invoke(hosting, "split", target_variant="nope")


def test_shadow_sees_every_request_and_answers_none(hosting: HostingHarness) -> None:
    hosting.endpoint("shadowed", {"live": ("good", 1)}, shadows={"dark": "bad"})
    answered = Counter(invoke(hosting, "shadowed", n) for n in range(60))
    assert answered == {"live": 60}
    assert hosting.runtime.drain_shadows(10)
    hosting.recorder.flush()
    totals = hosting.store.totals("shadowed")
    assert totals[("dark", True)].requests == 60
    assert totals[("live", False)].requests == 60
    with pytest.raises(InvalidValue, match="is a shadow variant"):
        invoke(hosting, "shadowed", target_variant="dark")


def test_csv_and_json_bodies_and_answers(hosting: HostingHarness) -> None:
    hosting.endpoint("formats", {"only": ("good", 1)})
    rows = records(3, seed=4)
    csv_body = "x,color,note\n" + "".join(f"{r['x']},{r['color']},{r['note']}\n" for r in rows)

    def call(data: str, content_type: str, accept: str | None = None) -> tuple[str, bytes]:
        request = InvocationRequest("formats", data.encode(), "f", content_type=content_type, accept=accept)
        answer = hosting.runtime.invoke(request)
        return answer.content_type, answer.body

    kind, out = call(csv_body, "text/csv")
    assert kind == "application/json"
    predictions = json.loads(out)["predictions"]
    assert len(predictions) == 3 and all(p["predictedLabel"] in ("0", "1") for p in predictions)
    kind, out = call(csv_body, "text/csv", accept="text/csv")
    assert kind == "text/csv"
    assert out.decode().splitlines() == [p["predictedLabel"] for p in predictions]
    kind, out = call(json.dumps({"instances": rows}), "application/json")
    assert json.loads(out)["predictions"] == predictions
    listed = [[r["x"], r["color"], r["note"]] for r in rows]
    assert json.loads(call(json.dumps({"instances": listed}), "application/json")[1])["predictions"] == predictions
    single = json.loads(call(json.dumps(rows[0]), "application/json; charset=utf-8")[1])
    assert single == predictions[0]
    with pytest.raises(ModelFailed, match=r"CSV line 1 has 2 values; the model takes 3, in this order: x, color, note"):
        call("1.0,red\n", "text/csv")
    with pytest.raises(InvalidValue, match=r"Accept='image/png'; expected one of \['application/json', 'text/csv'\]"):
        call(csv_body, "text/csv", accept="image/png")
    with pytest.raises(InvalidValue, match="ContentType='application/xml'"):
        call("<x/>", "application/xml")


def test_weight_update_changes_the_split_and_is_audited(hosting: HostingHarness) -> None:
    hosting.endpoint("reweigh", {"a": ("good", 50), "b": ("good", 50)})
    hosting.service.set_weights("reweigh", {"a": 0, "b": 1}, actor="alice", reason="drain a")
    assert {invoke(hosting, "reweigh", n) for n in range(200)} == {"b"}
    endpoint = hosting.service.get_endpoint("reweigh")
    assert [(v.name, v.current_weight) for v in endpoint.production] == [("a", 0), ("b", 1)]
    last = hosting.service.audit_trail("reweigh")[-1]
    assert (last.actor, last.action, last.reason) == ("alice", "weights", "drain a")
    assert last.details == {"before": {"a": 50, "b": 50}, "after": {"a": 0, "b": 1}}
    with pytest.raises(InvalidValue, match="leave every production variant at 0"):
        hosting.service.set_weights("reweigh", {"b": 0}, actor="alice")


def test_update_swaps_variants_without_downtime(hosting: HostingHarness) -> None:
    hosting.endpoint("rolling", {"old": ("good", 1)})
    hosting.service.create_config("rolling-next", [VariantSpec("new", "bad", 1)])
    failures: list[Exception] = []
    seen: set[str] = set()
    stop = threading.Event()

    def traffic() -> None:
        n = 0
        while not stop.is_set():
            try:
                seen.add(invoke(hosting, "rolling", n))
            except Exception as error:
                failures.append(error)
            n += 1

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        updated = hosting.service.update_endpoint("rolling", "rolling-next", actor="alice")
        assert updated.status in (EndpointStatus.UPDATING, EndpointStatus.IN_SERVICE)
        endpoint = hosting.service.get_endpoint("rolling")
        assert endpoint.status is EndpointStatus.IN_SERVICE
        assert endpoint.config_name == "rolling-next"
        assert [v.name for v in endpoint.variants] == ["new"]
        assert invoke(hosting, "rolling") == "new"
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert seen == {"old", "new"}


def test_deleting_a_model_in_use_is_refused(hosting: HostingHarness) -> None:
    hosting.endpoint("inuse", {"v": ("narrow", 1)})
    with pytest.raises(InUse, match=r"Cannot delete model 'narrow': endpoints \['inuse'\] and endpoint configs"):
        hosting.service.delete_model("narrow")
    hosting.service.delete_endpoint("inuse", actor="alice")
    with pytest.raises(InUse, match=r"endpoint configs \['inuse-config'\] use it"):
        hosting.service.delete_model("narrow")
    hosting.service.delete_config("inuse-config")
    hosting.service.delete_model("narrow")
    with pytest.raises(DoesNotExist):
        hosting.service.get_model("narrow")


def test_bad_definitions_are_refused_with_the_field_named(hosting: HostingHarness) -> None:
    with pytest.raises(DoesNotExist, match="model-package/churn/missing does not exist"):
        hosting.service.create_model("m1", ARN.format("missing"), containers=[{}], primary=True)
    with pytest.raises(InvalidValue, match="ModelName='bad name'"):
        hosting.service.create_model("bad name", ARN.format("good"), containers=[{}], primary=True)
    hosting.model("good")
    with pytest.raises(InvalidValue, match="Cannot create already existing model"):
        hosting.service.create_model("good", ARN.format("good"), containers=[{}], primary=True)
    with pytest.raises(InvalidValue, match=r"VariantName \['a'\] is used more than once"):
        hosting.service.create_config("dup", [VariantSpec("a", "good"), VariantSpec("a", "good", shadow=True)])
    with pytest.raises(InvalidValue, match="every production variant has InitialVariantWeight 0"):
        hosting.service.create_config("zero", [VariantSpec("a", "good", 0)])
    with pytest.raises(InvalidValue, match="Could not find model"):
        hosting.service.create_config("ghost", [VariantSpec("a", "ghost")])
    with pytest.raises(DoesNotExist, match="Endpoint nowhere of account 000000000000 not found"):
        invoke(hosting, "nowhere")
