"""Pipelines: a YAML file wiring lake data, a preprocessing function, training, the gate, deployment and promotion.

Each run is recorded with its steps, their lineage and a log; its steps run as jobs, one after the other,
so a run interrupted by a crash resumes from its last finished step.
"""

from altostratus.pipelines.runner import PipelineRunner, Services
from altostratus.pipelines.runs import STEP_JOB, PipelineRuns, Run, RunNotFound, State, StepRecord
from altostratus.pipelines.spec import InvalidPipeline, PipelineSpec, from_mapping, parse

__all__ = [
    "STEP_JOB",
    "InvalidPipeline",
    "PipelineRunner",
    "PipelineRuns",
    "PipelineSpec",
    "Run",
    "RunNotFound",
    "Services",
    "State",
    "StepRecord",
    "from_mapping",
    "parse",
]
