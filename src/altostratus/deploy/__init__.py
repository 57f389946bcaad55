"""Deploy: the model registry (versions, stages test/prod, promotion gates) and production endpoints with variants."""

from altostratus.deploy.errors import DoesNotExist, InConflict, InUse, InvalidValue
from altostratus.deploy.gates import Check, Evidence, GatePolicy, GateReport
from altostratus.deploy.model_store import MODEL_STORE_BUCKET, ArtifactRefused, ModelStore
from altostratus.deploy.promotion import JOB_PROMOTE
from altostratus.deploy.registry import Registry, UsageCheck
from altostratus.deploy.stages import Event, EventKind, ProdInterval, Stage
from altostratus.deploy.versions import GateStatus, ModelGroup, ModelVersion

__all__ = [
    "JOB_PROMOTE",
    "MODEL_STORE_BUCKET",
    "ArtifactRefused",
    "Check",
    "DoesNotExist",
    "Event",
    "EventKind",
    "Evidence",
    "GatePolicy",
    "GateReport",
    "GateStatus",
    "InConflict",
    "InUse",
    "InvalidValue",
    "ModelGroup",
    "ModelStore",
    "ModelVersion",
    "ProdInterval",
    "Registry",
    "Stage",
    "UsageCheck",
]
