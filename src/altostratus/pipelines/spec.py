"""The pipeline file: a YAML document wiring source, preprocess, train, gate, deploy and promote steps.

Parsing checks every field and names the step and field that is wrong (`train.candidates[1].algorithm='svm';
expected one of ['auto', 'sgd']`), so a bad file fails before any run starts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import yaml

from altostratus.core.errors import InvalidArgument

STEPS = ("source", "preprocess", "train", "gate", "deploy", "promote")
MODEL_TYPES = ("BINARY", "MULTICLASS", "REGRESSION")
ALGORITHMS = ("auto", "sgd")
PROMOTE_WHEN = ("experiment", "immediately", "never")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


class InvalidPipeline(InvalidArgument):
    """The pipeline file is not valid: the message names the step and field."""

    code = "InvalidPipelineException"


@dataclasses.dataclass(frozen=True)
class Source:
    """Where the raw data lands: a bucket and a key prefix."""

    bucket: str
    prefix: str


@dataclasses.dataclass(frozen=True)
class Preprocess:
    """A function applied to each source object, and where its cleaned CSV output lands."""

    function: str
    output_prefix: str
    output_suffix: str = ".csv"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One model to train: its name inside the run and its algorithm."""

    name: str
    algorithm: str
    parameters: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Train:
    """The models to train on the run's data: type, target column, training share and candidates."""

    model_type: str
    target: str
    split: float
    candidates: tuple[Candidate, ...]


@dataclasses.dataclass(frozen=True)
class Gate:
    """The registry group the best candidate is registered in, its gate policy and how long to wait."""

    group: str
    metric: str
    policy: Mapping[str, Any] | None
    timeout: float


@dataclasses.dataclass(frozen=True)
class Deploy:
    """The endpoint serving champion and challenger, and the challenger's share of traffic in percent."""

    endpoint: str
    challenger_weight: float


@dataclasses.dataclass(frozen=True)
class Promote:
    """When the challenger takes all traffic: on the experiment's verdict, at once, or never."""

    when: str
    min_outcomes: int
    max_wait: float


@dataclasses.dataclass(frozen=True)
class PipelineSpec:
    """A whole pipeline file, checked."""

    name: str
    source: Source
    preprocess: Preprocess | None
    train: Train
    gate: Gate
    deploy: Deploy | None
    promote: Promote | None
    on_new_data: bool
    document: Mapping[str, Any]

    @property
    def steps(self) -> list[str]:
        """The step names this pipeline runs, in order."""
        present = {"preprocess": self.preprocess, "deploy": self.deploy, "promote": self.promote}
        return [s for s in STEPS if present.get(s, True) is not None]

    @property
    def work_prefix(self) -> str:
        """Where the runs' combined training data lands in the source bucket."""
        return f"pipelines/{self.name}/"


def parse(text: str) -> PipelineSpec:
    """The pipeline in a YAML text; InvalidPipeline naming the step and field that is wrong."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidPipeline(f"the pipeline file is not valid YAML: {error}") from None
    return from_mapping(document)


def from_mapping(document: Any) -> PipelineSpec:
    """The pipeline in a parsed document (as stored with each run)."""
    root = _Fields("pipeline", document, {"name", "on_new_data", *STEPS})
    name = root.text("name")
    if not _NAME.fullmatch(name):
        raise InvalidPipeline(f"name={name!r}; expected 1 to 63 letters, digits and hyphens")
    source = _source(root.section("source"))
    preprocess = _preprocess(root.section("preprocess", required=False))
    if preprocess is not None and preprocess.output_prefix.startswith(source.prefix):
        raise InvalidPipeline(
            f"preprocess.output_prefix={preprocess.output_prefix!r} lies under source.prefix={source.prefix!r}; "
            "its output would start the pipeline again"
        )
    if f"pipelines/{name}/".startswith(source.prefix):
        raise InvalidPipeline(f"source.prefix={source.prefix!r} would hold the runs' own data under pipelines/")
    deploy = _deploy(root.section("deploy", required=False))
    promote = _promote(root.section("promote", required=False))
    if promote is not None and deploy is None:
        raise InvalidPipeline("promote needs a deploy step: name the endpoint under deploy.endpoint")
    return PipelineSpec(
        name=name,
        source=source,
        preprocess=preprocess,
        train=_train(root.section("train")),
        gate=_gate(root.section("gate")),
        deploy=deploy,
        promote=promote,
        on_new_data=root.flag("on_new_data", False),
        document=document,
    )


def _source(fields: _Fields) -> Source:
    prefix = fields.text("prefix", "")
    if prefix and not prefix.endswith("/"):
        raise InvalidPipeline(f"source.prefix={prefix!r}; expected a prefix ending in '/'")
    return Source(fields.text("bucket"), prefix)


def _preprocess(fields: _Fields | None) -> Preprocess | None:
    if fields is None:
        return None
    output = fields.text("output_prefix")
    if not output.endswith("/"):
        raise InvalidPipeline(f"preprocess.output_prefix={output!r}; expected a prefix ending in '/'")
    return Preprocess(fields.text("function"), output, fields.text("output_suffix", ".csv"))


def _train(fields: _Fields) -> Train:
    model_type = fields.choice("model_type", MODEL_TYPES, "BINARY")
    split = fields.number("split", 0.7)
    if not 0.1 <= split <= 0.95:
        raise InvalidPipeline(f"train.split={split!r}; expected the training share, from 0.1 to 0.95")
    entries = fields.get("candidates", [{"name": "sgd", "algorithm": "sgd"}])
    if not isinstance(entries, list) or not entries:
        raise InvalidPipeline(f"train.candidates={entries!r}; expected a list of at least one candidate")
    candidates = []
    for n, entry in enumerate(entries):
        item = _Fields(f"train.candidates[{n}]", entry, {"name", "algorithm", "parameters"})
        algorithm = item.choice("algorithm", ALGORITHMS, "sgd")
        name = item.text("name", algorithm)
        parameters = item.get("parameters", {})
        if not isinstance(parameters, Mapping):
            raise InvalidPipeline(f"train.candidates[{n}].parameters={parameters!r}; expected a mapping")
        candidates.append(Candidate(name, algorithm, {str(k): str(v) for k, v in parameters.items()}))
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise InvalidPipeline(f"train.candidates names {names} repeat; give each candidate its own name")
    return Train(model_type, fields.text("target"), split, tuple(candidates))


def _gate(fields: _Fields) -> Gate:
    policy = fields.get("policy", None)
    if policy is not None and not isinstance(policy, Mapping):
        raise InvalidPipeline(f"gate.policy={policy!r}; expected a mapping of gate policy fields")
    metric = fields.text("metric", str(policy.get("metric", "")) if policy else "") or "auc"
    return Gate(fields.text("group"), metric, dict(policy) if policy else None, fields.number("timeout", 600.0))


def _deploy(fields: _Fields | None) -> Deploy | None:
    if fields is None:
        return None
    weight = fields.number("challenger_weight", 10.0)
    if not 0 < weight < 100:
        raise InvalidPipeline(f"deploy.challenger_weight={weight!r}; expected a percentage above 0 and below 100")
    return Deploy(fields.text("endpoint"), weight)


def _promote(fields: _Fields | None) -> Promote | None:
    if fields is None:
        return None
    min_outcomes = int(fields.number("min_outcomes", 200))
    if min_outcomes < 1:
        raise InvalidPipeline(f"promote.min_outcomes={min_outcomes!r}; expected 1 or more")
    return Promote(fields.choice("when", PROMOTE_WHEN, "experiment"), min_outcomes, fields.number("max_wait", 3600.0))


class _Fields:
    """One mapping of the file, read field by field with messages that name `where.field`."""

    def __init__(self, where: str, value: Any, allowed: set[str]) -> None:
        if not isinstance(value, Mapping):
            raise InvalidPipeline(f"{where}={value!r}; expected a mapping")
        unknown = sorted(str(k) for k in set(value) - allowed)
        if unknown:
            raise InvalidPipeline(f"{where} has unknown fields {unknown}; expected some of {sorted(allowed)}")
        self._where = where
        self._value = value

    def get(self, field: str, default: Any) -> Any:
        return self._value.get(field, default)

    def section(self, step: str, *, required: bool = True) -> Any:
        value = self._value.get(step)
        if value is None:
            if required:
                raise InvalidPipeline(f"the pipeline has no {step} step; it is required")
            return None
        fields = {
            "source": {"bucket", "prefix"},
            "preprocess": {"function", "output_prefix", "output_suffix"},
            "train": {"model_type", "target", "split", "candidates"},
            "gate": {"group", "metric", "policy", "timeout"},
            "deploy": {"endpoint", "challenger_weight"},
            "promote": {"when", "min_outcomes", "max_wait"},
        }[step]
        return _Fields(step, value, fields)

    def text(self, field: str, default: str | None = None) -> str:
        value = self._value.get(field, default)
        if value is None:
            raise InvalidPipeline(f"{self._where}.{field} is missing; it is required")
        if not isinstance(value, str) or (default is None and not value):
            raise InvalidPipeline(f"{self._where}.{field}={value!r}; expected a non-empty string")
        return value

    def number(self, field: str, default: float) -> float:
        value = self._value.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidPipeline(f"{self._where}.{field}={value!r}; expected a number")
        return float(value)

    def flag(self, field: str, default: bool) -> bool:
        value = self._value.get(field, default)
        if not isinstance(value, bool):
            raise InvalidPipeline(f"{self._where}.{field}={value!r}; expected true or false")
        return value

    def choice(self, field: str, allowed: tuple[str, ...], default: str) -> str:
        value = self._value.get(field, default)
        if value not in allowed:
            raise InvalidPipeline(f"{self._where}.{field}={value!r}; expected one of {sorted(allowed)}")
        return str(value)
