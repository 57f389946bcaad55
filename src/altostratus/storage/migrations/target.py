"""What the migrations build: the shared MetaData with every service's tables registered on it.

A service's tables join `metadata` when its tables module is imported; this is the one module that
imports them all (the architecture test allows it here only), for Alembic and for the test that
compares the migrated database with the declared tables.
"""

import altostratus.auth.tables
import altostratus.bots.tables
import altostratus.deploy.tables
import altostratus.dl.tables
import altostratus.functions.tables
import altostratus.jobs.tables
import altostratus.lake.tables
import altostratus.pipelines.tables
import altostratus.predict.tables
import altostratus.speech.tables
import altostratus.vision.tables
from altostratus.storage.schema import metadata

SERVICE_TABLES = (
    altostratus.auth.tables,
    altostratus.bots.tables,
    altostratus.deploy.tables,
    altostratus.dl.tables,
    altostratus.functions.tables,
    altostratus.jobs.tables,
    altostratus.lake.tables,
    altostratus.pipelines.tables,
    altostratus.predict.tables,
    altostratus.speech.tables,
    altostratus.vision.tables,
)

__all__ = ["SERVICE_TABLES", "metadata"]
