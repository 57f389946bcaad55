"""Every S3 operation's IAM action and what it acts on, as IAM's "actions defined by Amazon S3" names them.

What an action acts on is its resource kind: "account" (ListBuckets, CreateBucket of a bucket that does not
exist yet: no bucket's policy or ACL can speak of it), "bucket" (arn:aws:s3:::bucket), "object"
(arn:aws:s3:::bucket/key), or "each key" (DeleteObjects names its keys in the body: each is checked as it is
deleted). A function's key, the bucket authorizer (lake/access.py) and the policy grammar's list of known
actions all read this one table.
"""

from __future__ import annotations

ACCOUNT, BUCKET, OBJECT, EACH_KEY = "account", "bucket", "object", "each key"

S3_ACTIONS: dict[str, tuple[str, str]] = {
    # The account
    "ListBuckets": ("s3:ListAllMyBuckets", ACCOUNT),
    "CreateBucket": ("s3:CreateBucket", ACCOUNT),
    # Buckets
    "HeadBucket": ("s3:ListBucket", BUCKET),
    "DeleteBucket": ("s3:DeleteBucket", BUCKET),
    "GetBucketLocation": ("s3:GetBucketLocation", BUCKET),
    "ListObjects": ("s3:ListBucket", BUCKET),
    "ListObjectsV2": ("s3:ListBucket", BUCKET),
    "ListObjectVersions": ("s3:ListBucketVersions", BUCKET),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", BUCKET),
    "GetBucketAcl": ("s3:GetBucketAcl", BUCKET),
    "PutBucketAcl": ("s3:PutBucketAcl", BUCKET),
    "GetBucketPolicy": ("s3:GetBucketPolicy", BUCKET),
    "PutBucketPolicy": ("s3:PutBucketPolicy", BUCKET),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", BUCKET),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", BUCKET),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", BUCKET),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", BUCKET),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "GetBucketNotification": ("s3:GetBucketNotification", BUCKET),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", BUCKET),
    "PutBucketNotification": ("s3:PutBucketNotification", BUCKET),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", BUCKET),
    "GetBucketVersioning": ("s3:GetBucketVersioning", BUCKET),
    "PutBucketVersioning": ("s3:PutBucketVersioning", BUCKET),
    "GetBucketTagging": ("s3:GetBucketTagging", BUCKET),
    "PutBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "DeleteBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "GetBucketCors": ("s3:GetBucketCORS", BUCKET),
    "PutBucketCors": ("s3:PutBucketCORS", BUCKET),
    "DeleteBucketCors": ("s3:PutBucketCORS", BUCKET),
    "GetBucketLifecycle": ("s3:GetLifecycleConfiguration", BUCKET),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", BUCKET),
    "PutBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", BUCKET),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", BUCKET),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", BUCKET),
    # Objects
    "HeadObject": ("s3:GetObject", OBJECT),
    "GetObject": ("s3:GetObject", OBJECT),
    "GetObjectAttributes": ("s3:GetObject", OBJECT),
    "PutObject": ("s3:PutObject", OBJECT),
    "CopyObject": ("s3:PutObject", OBJECT),
    "DeleteObject": ("s3:DeleteObject", OBJECT),
    "DeleteObjects": ("s3:DeleteObject", EACH_KEY),
    "CreateMultipartUpload": ("s3:PutObject", OBJECT),
    "UploadPart": ("s3:PutObject", OBJECT),
    "UploadPartCopy": ("s3:PutObject", OBJECT),
    "CompleteMultipartUpload": ("s3:PutObject", OBJECT),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", OBJECT),
    "ListParts": ("s3:ListMultipartUploadParts", OBJECT),
    "GetObjectAcl": ("s3:GetObjectAcl", OBJECT),
    "PutObjectAcl": ("s3:PutObjectAcl", OBJECT),
    "GetObjectTagging": ("s3:GetObjectTagging", OBJECT),
    "PutObjectTagging": ("s3:PutObjectTagging", OBJECT),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", OBJECT),
    "GetObjectRetention": ("s3:GetObjectRetention", OBJECT),
    "PutObjectRetention": ("s3:PutObjectRetention", OBJECT),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", OBJECT),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", OBJECT),
    "RestoreObject": ("s3:RestoreObject", OBJECT),
    "SelectObjectContent": ("s3:GetObject", OBJECT),
}

# The actions a request naming a version id needs instead (GetObject of ?versionId= is s3:GetObjectVersion).
VERSION_ACTIONS: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}

# Every action a bucket policy may name without a wildcard (IAM's own list has more; these are the ones the
# lake's operations need, so a statement naming one of them always means something here).
KNOWN_ACTIONS = frozenset(
    [action for action, _ in S3_ACTIONS.values()] + list(VERSION_ACTIONS.values()) + ["s3:BypassGovernanceRetention"]
)

# Actions a read-only key may take: they change nothing.
READ_ACTIONS = frozenset(a for a in KNOWN_ACTIONS if a.startswith(("s3:Get", "s3:List")))


def s3_action(operation: str) -> tuple[str, str] | None:
    """The IAM action and resource kind of an S3 operation, or None for one the lake does not serve."""
    return S3_ACTIONS.get(operation)
