"""Running a pipeline's steps as jobs: one job per step, which queues the next step's job when it finishes.

Resume: a step's job that dies with its server is taken again when its lease expires (or by the next server
to start). The job reads the run back: a COMPLETED step only queues the next one; a step half done reads
its lineage (saved after each piece of work) and the deterministic ids of what it creates (datasource,
model and evaluation ids derive from the run id; registry versions carry the run id in their metadata), so
finished work is found, not done again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from altostratus.core.caller import Caller
from altostratus.core.errors import AltoError
from altostratus.core.waiting import wait_for
from altostratus.deploy import DoesNotExist, ModelVersion, Registry, Stage
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.experiments import ExperimentReports
from altostratus.deploy.gates import metric_values
from altostratus.deploy.hosting import Endpoint, EndpointStatus, VariantSpec
from altostratus.functions.service import FunctionsService
from altostratus.jobs import JobContext
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.pipelines.runs import STEP_JOB, PipelineRuns, State
from altostratus.pipelines.spec import PipelineSpec
from altostratus.predict import PredictService

log = logging.getLogger(__name__)
ACTOR = "alto-pipelines"
Lineage = dict[str, Any]


class StepFailed(Exception):
    """A step cannot finish: the run fails with this message."""


class StopRun(Exception):
    """The run ends here, COMPLETED, with this message (a gate refused the candidate)."""


@dataclasses.dataclass(frozen=True)
class Services:
    """What the steps use: the lake, functions, predict, the registry, endpoints and their experiments."""

    lake: LakeService
    functions: FunctionsService
    predict: PredictService
    registry: Registry
    endpoints: EndpointService
    reports: ExperimentReports


class PipelineRunner:
    """The handler of step jobs."""

    def __init__(self, runs: PipelineRuns, services: Services, *, poll_seconds: float = 0.25) -> None:
        self._runs = runs
        self._s = services
        self._poll = poll_seconds
        self._steps: dict[str, Callable[[PipelineSpec, str, Lineage, Callable[[], None]], str]] = {
            "source": self._source,
            "preprocess": self._preprocess,
            "train": self._train,
            "gate": self._gate,
            "deploy": self._deploy,
            "promote": self._promote,
        }

    def handlers(self) -> dict[str, Callable[[JobContext], Any]]:
        """The job handlers by kind."""
        return {STEP_JOB: self.run}

    def run(self, context: JobContext) -> dict[str, Any]:
        """Run one step of a run (or, if it finished before a crash, only queue the next one)."""
        run_id, step = str(context.payload["run_id"]), str(context.payload["step"])
        run = self._runs.get(run_id)
        if run.state.is_final:
            return {"skipped": f"run is {run.state}"}
        spec = run.spec
        if run.step(step).state is not State.COMPLETED:
            record = self._runs.begin_step(run_id, step)
            lineage: Lineage = dict(record.lineage)
            self._runs.log(run_id, step, f"attempt {record.attempts}" + (" (resumed)" if lineage else ""))
            try:
                message = self._steps[step](
                    spec, run_id, lineage, lambda: self._runs.save_lineage(run_id, step, lineage)
                )
            except StopRun as stop:
                self._runs.save_lineage(run_id, step, lineage)
                self._runs.finish_step(run_id, step, State.COMPLETED, str(stop))
                self._runs.finish_run(run_id, State.COMPLETED, str(stop))
                return {"stopped": str(stop)}
            except (StepFailed, AltoError) as error:
                text = error.message if isinstance(error, AltoError) else str(error)
                self._runs.save_lineage(run_id, step, lineage)
                self._runs.finish_step(run_id, step, State.FAILED, text)
                self._runs.finish_run(run_id, State.FAILED, f"step {step} failed: {text}")
                return {"failed": text}
            self._runs.save_lineage(run_id, step, lineage)
            self._runs.finish_step(run_id, step, State.COMPLETED, message)
        steps = spec.steps
        position = steps.index(step)
        if position + 1 < len(steps):
            self._runs.queue(run_id, steps[position + 1])
        else:
            self._runs.finish_run(run_id, State.COMPLETED, "every step finished")
        return {"step": step}

    # ---- source and preprocess ------------------------------------------------------------------

    def _source(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        objects = self._objects(spec.source.bucket, spec.source.prefix, "")
        if not objects:
            raise StepFailed(f"no objects under s3://{spec.source.bucket}/{spec.source.prefix}")
        lineage["objects"] = objects
        return f"{len(objects)} object(s) under s3://{spec.source.bucket}/{spec.source.prefix}"

    def _preprocess(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        assert spec.preprocess is not None
        bucket = spec.source.bucket
        done = lineage.setdefault("invocations", {})
        for obj in self._runs.get(run_id).step("source").lineage["objects"]:
            if obj["key"] in done:
                continue
            event = {"Records": [_s3_record(bucket, obj["key"], obj["etag"], obj["size"])]}
            result = self._s.functions.invoke(spec.preprocess.function, json.dumps(event).encode())
            if not result.outcome.ok:
                raise StepFailed(
                    f"function {spec.preprocess.function!r} failed on s3://{bucket}/{obj['key']}: "
                    f"{result.outcome.payload.decode(errors='replace')[:500]}"
                )
            done[obj["key"]] = result.request_id
            save()
            self._runs.log(
                run_id, "preprocess", f"{spec.preprocess.function} cleaned {obj['key']} ({result.request_id})"
            )
        outputs = self._objects(bucket, spec.preprocess.output_prefix, spec.preprocess.output_suffix)
        if not outputs:
            raise StepFailed(f"the function wrote nothing under s3://{bucket}/{spec.preprocess.output_prefix}")
        lineage["outputs"] = outputs
        lineage["data"] = self._combine(bucket, [o["key"] for o in outputs], f"{spec.work_prefix}{run_id}/data.csv")
        return f"{len(done)} object(s) cleaned; {len(outputs)} clean file(s) combined into {lineage['data']['key']}"

    def _combine(self, bucket: str, keys: list[str], target: str) -> dict[str, Any]:
        """One CSV of the files' rows (the first file's header once): the run's own, unchanging snapshot."""
        writer = self._s.lake.object_writer(bucket, target, ObjectMeta("text/csv"))
        with writer:
            for n, key in enumerate(keys):
                lines = b"".join(self._s.lake.read(self._s.lake.head(bucket, key))).splitlines(keepends=True)
                body = b"".join(lines if n == 0 else lines[1:])
                writer.write(body if body.endswith(b"\n") or not body else body + b"\n")
            info = writer.commit(Caller(ACTOR))
        return {"key": target, "etag": info.etag}

    def _objects(self, bucket: str, prefix: str, suffix: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = ""
        while True:
            page = self._s.lake.list_objects(bucket, prefix=prefix, after=after)
            for info in page.objects:
                if info.key.endswith(suffix) and not info.key.endswith("/"):
                    found.append({"key": info.key, "etag": info.etag, "size": info.size})
            if not page.is_truncated:
                return found
            after = page.objects[-1].key

    # ---- train ----------------------------------------------------------------------------------

    def _train(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        run = self._runs.get(run_id)
        key = (run.step("preprocess").lineage if spec.preprocess else {}).get("data", {}).get("key")
        if key is None:
            objects = run.step("source").lineage["objects"]
            key = self._combine(
                spec.source.bucket, [o["key"] for o in objects], f"{spec.work_prefix}{run_id}/data.csv"
            )["key"]
        location = f"s3://{spec.source.bucket}/{key}"
        percent = round(spec.train.split * 100)
        ids = {"train": _id(run_id, "train"), "evaluate": _id(run_id, "eval")}
        for part, (begin, end) in {"train": (0, percent), "evaluate": (percent, 100)}.items():
            rearrangement = json.dumps({"splitting": {"percentBegin": begin, "percentEnd": end}})
            self._s.predict.create_datasource(
                ids[part], location, rearrangement=rearrangement, contains_header=True, target=spec.train.target
            )
        for datasource in ids.values():
            self._wait("datasource", functools.partial(self._s.predict.get_datasource, datasource))
        lineage["data"] = location
        lineage["datasources"] = ids
        models = lineage.setdefault("models", {})
        for candidate in spec.train.candidates:
            model_id = _id(run_id, candidate.name)
            parameters = {"algorithm": candidate.algorithm, **candidate.parameters}
            self._s.predict.create_model(model_id, ids["train"], spec.train.model_type, parameters=parameters)
            models[candidate.name] = {"model_id": model_id, "algorithm": candidate.algorithm}
        save()
        for candidate in spec.train.candidates:
            entry = models[candidate.name]
            self._wait("model", functools.partial(self._s.predict.get_model, entry["model_id"]))
            evaluation_id = _id(run_id, f"{candidate.name}-eval")
            self._s.predict.create_evaluation(evaluation_id, entry["model_id"], ids["evaluate"])
            evaluation = self._wait("evaluation", functools.partial(self._s.predict.get_evaluation, evaluation_id))
            entry["evaluation_id"] = evaluation_id
            entry["metrics"] = metric_values(evaluation.metrics or {})
            save()
            self._runs.log(run_id, "train", f"{candidate.name} ({candidate.algorithm}): {_metrics(entry['metrics'])}")
        return "; ".join(f"{name} {_metrics(m['metrics'])}" for name, m in models.items())

    def _wait(self, noun: str, get: Callable[[], Any]) -> Any:
        entity = wait_for(
            get, lambda e: e.status in ("COMPLETED", "FAILED", "DELETED"), timeout=None, interval=self._poll
        )
        if entity.status != "COMPLETED":
            raise StepFailed(f"{noun} {entity.name!r} is {entity.status}: {entity.message}")
        return entity

    # ---- gate -----------------------------------------------------------------------------------

    def _gate(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        models = self._runs.get(run_id).step("train").lineage["models"]
        metric = spec.gate.metric
        lower_better = metric in ("rmse", "mae")
        ranking = sorted(
            models, key=lambda n: models[n]["metrics"].get(metric, float("-inf")), reverse=not lower_better
        )
        lineage["ranking"] = [{"candidate": n, metric: models[n]["metrics"].get(metric)} for n in ranking]
        group = spec.gate.group
        registry = self._s.registry
        try:
            registry.get_group(group)
        except DoesNotExist:
            registry.create_group(group, actor=ACTOR, description=f"models of pipeline {spec.name}")
        if spec.gate.policy is not None:
            datasources = self._runs.get(run_id).step("train").lineage["datasources"]
            policy = {"evaluation_datasource": datasources["evaluate"], **spec.gate.policy}
            registry.set_policy(group, policy, actor=ACTOR)
        if "previous_prod" not in lineage:
            previous = registry.prod_version(group)
            lineage["previous_prod"] = previous.version if previous else None
            save()
        version = self._registered(spec, run_id, ranking[0], models[ranking[0]]["model_id"])
        lineage["candidate"] = ranking[0]
        lineage["version"] = version.version
        lineage["version_arn"] = registry.version_arn(version)
        save()
        registry.request_promotion(group, version.version, actor=ACTOR, reason=f"pipeline run {run_id}")
        version = registry.wait_for_gate(group, version.version, timeout=spec.gate.timeout)
        lineage["stage"] = version.stage.value
        lineage["gate_status"] = version.gate_status.value
        lineage["gate"] = dict(version.gate_report or {})
        lineage["decision"] = version.approval_description
        if version.stage is not Stage.PROD:
            raise StopRun(f"gate refused {group} v{version.version} ({ranking[0]}): {version.approval_description}")
        return f"{group} v{version.version} ({ranking[0]}) promoted to prod: {version.approval_description}"

    def _registered(self, spec: PipelineSpec, run_id: str, candidate: str, model_id: str) -> ModelVersion:
        """The candidate's registry version: found by its run metadata, or registered now."""
        marks = {"pipeline-run": run_id, "candidate": candidate}
        for version in self._s.registry.list_versions(spec.gate.group).items:
            if all(version.customer_metadata.get(k) == v for k, v in marks.items()):
                return version
        return self._s.registry.register(
            spec.gate.group,
            f"ml-model:{model_id}",
            actor=ACTOR,
            description=f"{candidate} of pipeline run {run_id}",
            customer_metadata=marks,
        )

    # ---- deploy and promote ---------------------------------------------------------------------

    def _deploy(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        assert spec.deploy is not None
        gate = self._runs.get(run_id).step("gate").lineage
        name = spec.deploy.endpoint
        endpoints = self._s.endpoints
        current = endpoints.find_endpoint(name)
        new = self._hosted(spec.gate.group, gate["version"])
        champion: tuple[str, str] | None = None
        if current is not None and current.production:
            top = max(current.production, key=lambda v: v.current_weight)
            if top.model_name != new:
                champion = (top.name, top.model_name)
        elif gate["previous_prod"] is not None:
            champion = (f"v{gate['previous_prod']}", self._hosted(spec.gate.group, gate["previous_prod"]))
        weight = spec.deploy.challenger_weight
        if champion is None and len(gate["ranking"]) > 1:
            # A first deployment: the gate's winner is the champion, the runner-up challenges it.
            runner_up = gate["ranking"][1]["candidate"]
            model_id = self._runs.get(run_id).step("train").lineage["models"][runner_up]["model_id"]
            version = self._registered(spec, run_id, runner_up, model_id)
            variants = [
                VariantSpec(f"v{gate['version']}", new, 100 - weight),
                VariantSpec(f"v{version.version}", self._hosted(spec.gate.group, version.version), weight),
            ]
        elif champion is None:
            variants = [VariantSpec(f"v{gate['version']}", new, 100.0)]
        else:
            variants = [
                VariantSpec(champion[0], champion[1], 100 - weight),
                VariantSpec(f"v{gate['version']}", new, weight),
            ]
        config = f"{name[:40]}-{hashlib.sha256(run_id.encode()).hexdigest()[:12]}"
        with contextlib.suppress(DoesNotExist):
            endpoints.get_config(config)
            variants = []
        if variants:
            endpoints.create_config(config, variants)
        if current is None:
            endpoints.create_endpoint(name, config, actor=ACTOR)
        elif current.config_name != config and current.pending_config != config:
            endpoints.update_endpoint(name, config, actor=ACTOR)
        endpoint = self._in_service(name)
        production = endpoint.production
        lineage.update(
            endpoint=name,
            config=config,
            variants={
                v.name: {"model": v.model_name, "package": v.package_arn, "weight": v.current_weight}
                for v in production
            },
            champion=production[0].name,
            challenger=production[1].name if len(production) > 1 else None,
        )
        return f"endpoint {name} InService: " + ", ".join(f"{v.name} {v.current_weight:g}%" for v in production)

    def _hosted(self, group: str, number: int) -> str:
        """The hosted model running a registry version (created on first use)."""
        name = f"{group[:50]}-v{number}"
        try:
            self._s.endpoints.get_model(name)
        except DoesNotExist:
            version = self._s.registry.get_version(group, number)
            self._s.endpoints.create_model(name, self._s.registry.version_arn(version), containers=(), primary=True)
        return name

    def _in_service(self, name: str) -> Endpoint:
        endpoint = wait_for(
            lambda: self._s.endpoints.get_endpoint(name),
            lambda e: (
                e.status is EndpointStatus.FAILED
                or (e.status is EndpointStatus.IN_SERVICE and e.pending_config is None)
            ),
            timeout=None,
            interval=self._poll,
        )
        if endpoint.status is EndpointStatus.FAILED:
            raise StepFailed(f"endpoint {name} Failed: {endpoint.failure_reason}")
        return endpoint

    def _promote(self, spec: PipelineSpec, run_id: str, lineage: Lineage, save: Callable[[], None]) -> str:
        assert spec.promote is not None
        deployed = self._runs.get(run_id).step("deploy").lineage
        champion, challenger = deployed["champion"], deployed["challenger"]
        if challenger is None or spec.promote.when == "never":
            return "nothing to promote" if challenger is None else f"left {challenger} at its share (promote: never)"
        if spec.promote.when == "immediately":
            winner, why = challenger, "promote: immediately"
        else:
            winner, why = self._verdict(spec, run_id, deployed, lineage, save)
        lineage["prod"], refused = self._make_prod(spec, run_id, int(winner.removeprefix("v")))
        if refused:
            # Nothing passes the gate by winning traffic: the version it refused does not take the traffic either.
            winner, why = champion, f"{why}, but the gate refused {winner}: {refused}"
        loser = challenger if winner == champion else champion
        self._s.endpoints.set_weights(deployed["endpoint"], {winner: 100.0, loser: 0.0}, actor=ACTOR, reason=why)
        lineage["winner"] = winner
        lineage["why"] = why
        return f"{winner} takes all traffic ({why}); {spec.gate.group} prod is v{lineage['prod']}"

    def _verdict(
        self, spec: PipelineSpec, run_id: str, deployed: Mapping[str, Any], lineage: Lineage, save: Callable[[], None]
    ) -> tuple[str, str]:
        """Wait for enough outcomes on both variants; the winner and why."""
        assert spec.promote is not None
        champion, challenger = deployed["champion"], deployed["challenger"]
        deadline = time.monotonic() + spec.promote.max_wait
        while True:
            endpoint = self._s.endpoints.get_endpoint(deployed["endpoint"])
            report = self._s.reports.report(endpoint, champion=champion)
            lineage["experiment"] = report.to_dict()
            mine, theirs = report.variant(challenger), report.variant(champion)
            counts = [v.online.outcomes if v and v.online else 0 for v in (theirs, mine)]
            if min(counts) >= spec.promote.min_outcomes or time.monotonic() >= deadline:
                break
            time.sleep(max(self._poll, 1.0))
        save()
        comparison = mine.versus_champion if mine else None
        if comparison is None or min(counts) < spec.promote.min_outcomes:
            return (
                champion,
                f"too few outcomes ({counts[0]}/{counts[1]}, wanted {spec.promote.min_outcomes}): champion kept",
            )
        detail = f"difference {comparison.difference:+.4f}, p={comparison.p_value:.4g}"
        if comparison.significant and comparison.difference > 0:
            return challenger, f"challenger significantly better ({detail})"
        if comparison.significant:
            return champion, f"challenger significantly worse ({detail})"
        return champion, f"no significant difference ({detail}): champion kept"

    def _make_prod(self, spec: PipelineSpec, run_id: str, number: int) -> tuple[int, str]:
        """Make the winner prod (through the gate, or by rollback): (prod's version now, why the gate refused or "")."""
        registry = self._s.registry
        group = spec.gate.group
        prod = registry.prod_version(group)
        if prod is not None and prod.version == number:
            return number, ""
        previous = self._runs.get(run_id).step("gate").lineage.get("previous_prod")
        refused = ""
        if previous == number:
            registry.rollback(group, actor=ACTOR, reason=f"pipeline run {run_id}: the champion won the experiment")
        else:
            done = registry.promote(group, number, actor=ACTOR, reason=f"pipeline run {run_id}: won the experiment")
            refused = "" if done.stage is Stage.PROD else done.approval_description
        now = registry.prod_version(group)
        return (now.version if now else 0), refused


def _s3_record(bucket: str, key: str, etag: str, size: int) -> dict[str, Any]:
    """An S3 ObjectCreated record, as the lake's notifications send it, for a function to read."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "eTag": etag, "size": size}},
    }


def _id(run_id: str, part: str) -> str:
    text = f"{run_id}-{part}"
    return text if len(text) <= 64 else f"{hashlib.sha256(text.encode()).hexdigest()[:20]}-{part[:40]}"


def _metrics(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.4f}" for k, v in sorted(values.items())) or "no metrics"
