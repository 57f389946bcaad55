"""Bytes (BlobStore: local filesystem or S3) and state (MetadataStore: SQLite or PostgreSQL)."""
