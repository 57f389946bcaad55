"""Predict's wiring: datasources, models, evaluations and predictions over the lake, and the Amazon ML wire."""

from __future__ import annotations

import dataclasses

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.predict import LogLinks, MachineLearningApi
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.lake.service import LakeService
from altostratus.predict import PredictService, ReadOptions
from altostratus.predict.lake_locations import LakeLocations
from altostratus.predict.log_files import LogFiles


@dataclasses.dataclass
class Predict:
    """Predict's service, and its slice."""

    predict: PredictService
    slice: ServiceSlice


def wire_predict(base: Foundation, lake: LakeService) -> Predict:
    """Predict over the lake's data; its training and batch jobs run on the shared queue."""
    settings = base.settings
    predict = PredictService(
        base.metadata,
        base.blobs,
        base.jobs,
        base.clock,
        LakeLocations(lake),
        read_options=ReadOptions(max_bytes=settings.predict_max_datasource_bytes),
    )

    def adapters() -> list[ServiceAdapter]:
        links = LogLinks(settings.endpoint_url, settings.region)
        return [
            MachineLearningApi(predict, LakeLocations(lake), LogFiles(lake), links, settings.endpoint_url).adapter()
        ]

    return Predict(predict, ServiceSlice("predict", jobs=predict.handlers(), adapters=adapters))
