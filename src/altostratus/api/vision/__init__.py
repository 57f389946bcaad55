"""Rekognition's wire handlers: one class with a method per operation (rekognition.py), over the vision domain."""
