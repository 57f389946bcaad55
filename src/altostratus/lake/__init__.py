"""The data lake: buckets, objects, multipart uploads and notifications that become events."""
