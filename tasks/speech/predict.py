"""Transcribe WAV files with the speech model the Pusher deployed last (`pipeline.predict --task speech`).

    python -m pipeline.predict --task speech --file clip.wav [--file more.wav ...]

Each file's bytes become a raw tf.Example (only the `audio` feature, as a serving client
sends it); the served graph decodes, resamples and turns it into a spectrogram exactly as
in training, and decodes the CTC output. The transcript is the last line printed per file.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np
import tensorflow as tf

from components import examples_io
from data.config import PipelineConfig
from serving.predict_inputs import existing_files
from serving.serving_model import load_serving_fn
from tasks.speech import features
from tasks.speech.example_gen import clip_features


def read_files(args: argparse.Namespace) -> list[pathlib.Path]:
    return existing_files(args.file, "audio", "FILE=clip.wav (one or more WAV files: --file a.wav --file b.wav)")


def transcribe(serve, clips: list[bytes]) -> list[str]:
    """The transcript of each WAV file's bytes, from a `serving_default` function."""
    examples = tf.constant([examples_io.to_tf_example(clip_features(clip)).SerializeToString() for clip in clips])
    return [t.decode() for t in np.asarray(serve(examples=examples)[features.TRANSCRIPT_KEY]).reshape(-1)]


def predict_speech(config: PipelineConfig, args: argparse.Namespace) -> None:
    files = read_files(args)
    model_dir, serve = load_serving_fn(config)
    print(f"model: {model_dir}")
    for file, transcript in zip(files, transcribe(serve, [f.read_bytes() for f in files]), strict=True):
        print(f"{file}:")
        print(transcript)
