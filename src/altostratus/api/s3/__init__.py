"""The S3 API (rest-xml) over the lake."""
