"""Shared test setup: Keras 3 on the TensorFlow backend, quiet TensorFlow logs.

Set before any test module imports keras, so a bare `pytest` behaves like `make test`.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config, items):
    """End-to-end modules first: under `-n 2 --dist loadscope` (make test) a worker takes the
    next module when it is free, so the pipeline runs, minutes each, start at once and the
    unit modules fill the gaps, instead of a long run starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)  # stable: order kept within each
