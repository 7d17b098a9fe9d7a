"""Classify raw texts with the text model the Pusher deployed last (`pipeline.predict --task text`).

    python -m pipeline.predict --task text --text "A gripping, beautifully shot film."
    python -m pipeline.predict --task text --file reviews.txt   # one text per line

Each text becomes a raw tf.Example (only the `text` feature, as a serving client sends it).
"""
from __future__ import annotations

import argparse

import tensorflow as tf

from components import examples_io
from components.classification import predictions
from data.config import PipelineConfig
from serving.serving_model import load_serving_fn
from tasks.text import features


def read_texts(args: argparse.Namespace) -> list[str]:
    texts = [args.text] if args.text else []
    for file in args.file or []:
        with open(file, encoding="utf-8") as handle:
            texts += [line.strip() for line in handle if line.strip()]
    if not texts:
        raise ValueError("give --text \"...\" or --file lines.txt")
    return texts


def classify(serve, texts: list[str]) -> list[tuple[str, dict[str, float]]]:
    """(label, {class: probability}) per text, from a `serving_default` function."""
    examples = tf.constant([examples_io.to_tf_example({features.TEXT_KEY: t}).SerializeToString() for t in texts])
    return predictions(serve(examples=examples))


def predict_text(config: PipelineConfig, args: argparse.Namespace) -> None:
    texts = read_texts(args)
    model_dir, serve = load_serving_fn(config)
    print(f"model: {model_dir}")
    for text, (label, probabilities) in zip(texts, classify(serve, texts), strict=True):
        shown = "  ".join(f"{name}={p:.3f}" for name, p in probabilities.items())
        print(f"{label:10s} {shown}  | {text[:80]}")
