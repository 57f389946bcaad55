"""Altostratus: a self-hosted, offline AI platform that speaks the AWS wire protocols."""

__version__ = "0.1.0"
__all__ = ["__version__"]
