"""The S3 API (rest-xml) over the lake: S3Api's methods are the operations, api/rest_xml.py their wire."""

from altostratus.api.lake.service_api import S3Api
from altostratus.api.lake.services import S3Services

__all__ = ["S3Api", "S3Services"]
