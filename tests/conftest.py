"""Shared test setup: Keras 3 on the TensorFlow backend, quiet TensorFlow logs.

Set before any test module imports keras, so a bare `pytest` behaves like `make test`.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
