"""The vision service's tables: face collections, the faces indexed into them and the users that group faces.

A collection keeps what IndexFaces found and the face's embedding, never the image. Migrations under
storage/migrations create these tables; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table

from altostratus.storage.schema import UTCDateTime, binary_ordered_string, metadata

# `generation` is new each time a collection of this id is created and `version` goes up with every change to
# its faces: a process whose in-memory vector index holds an older pair reloads what changed.
face_collections = Table(
    "vision_collections",
    metadata,
    Column("collection_id", binary_ordered_string(255), primary_key=True),
    Column("arn", String(512), nullable=False),
    Column("face_model_version", String(32), nullable=False),
    Column("generation", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# `key` is the face's integer key in the vector index, the same in every process; `face_id` is the UUID
# Rekognition hands out. `vector` is the float32 little-endian embedding, unit length.
faces = Table(
    "vision_faces",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("face_id", String(36), nullable=False),
    Column(
        "collection_id",
        binary_ordered_string(255),
        ForeignKey("vision_collections.collection_id"),
        nullable=False,
    ),
    Column("image_id", String(36), nullable=False),
    Column("external_image_id", String(255), nullable=True),
    Column("box_left", Float, nullable=False),
    Column("box_top", Float, nullable=False),
    Column("box_width", Float, nullable=False),
    Column("box_height", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("user_id", String(128), nullable=True),
    Column("indexed_at", UTCDateTime, nullable=False),
    Index("ix_vision_faces_face_id", "face_id", unique=True),
    Index("ix_vision_faces_collection_key", "collection_id", "key"),
    Index("ix_vision_faces_collection_user", "collection_id", "user_id"),
)

# A user groups up to 100 faces of one person; `client_token` makes a repeated CreateUser harmless.
face_users = Table(
    "vision_users",
    metadata,
    Column(
        "collection_id",
        binary_ordered_string(255),
        ForeignKey("vision_collections.collection_id"),
        primary_key=True,
    ),
    Column("user_id", binary_ordered_string(128), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("client_token", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
