"""Data files shipped inside the package (read with importlib.resources): labels.json, the label hierarchy."""
