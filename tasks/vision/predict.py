"""Classify image files with the vision model the Pusher deployed last (`pipeline.predict --task vision`).

    python -m pipeline.predict --task vision --file digit.png [--file more.jpg ...]

Each file's bytes become a raw tf.Example (only the `image` feature, as a serving client
sends it); the served graph decodes, resizes and scales it exactly as in training.
"""
from __future__ import annotations

import argparse
import pathlib

import tensorflow as tf

from components import examples_io
from components.classification import predictions
from data.config import PipelineConfig
from serving.predict_inputs import existing_files
from serving.serving_model import load_serving_fn
from tasks.vision.example_gen import image_features

TOP = 3  # probabilities printed per image


def read_files(args: argparse.Namespace) -> list[pathlib.Path]:
    return existing_files(args.file, "image", "FILE=digit.png (one or more image files: --file a.png --file b.jpg)")


def classify_images(serve, images: list[bytes]) -> list[tuple[str, dict[str, float]]]:
    """(label, {class: probability}) per encoded image, from a `serving_default` function."""
    examples = tf.constant([examples_io.to_tf_example(image_features(image)).SerializeToString() for image in images])
    return predictions(serve(examples=examples))


def predict_vision(config: PipelineConfig, args: argparse.Namespace) -> None:
    files = read_files(args)
    model_dir, serve = load_serving_fn(config)
    print(f"model: {model_dir}")
    for file, (label, probabilities) in zip(files, classify_images(serve, [f.read_bytes() for f in files]), strict=True):
        top = sorted(probabilities.items(), key=lambda item: -item[1])[:TOP]
        print(f"{file}: {label}   " + "  ".join(f"{name}={p:.3f}" for name, p in top))
