"""Functions: Python handlers run in isolated worker processes, invoked directly, by lake events or by routes."""
