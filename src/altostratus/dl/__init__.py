"""The deep-learning layer: image datasets, four classifier families, experiments as jobs, ONNX export, reports."""
