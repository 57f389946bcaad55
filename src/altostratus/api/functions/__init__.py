"""The functions service's APIs: Lambda (rest-json) and its invocation logs through CloudWatch Logs (json)."""
