"""Serving: ONNX export, inference engines, DICOM Storage SCP, HTTP API and result writers.

Research tool, not a medical device (see docs/deployment.md).
"""
