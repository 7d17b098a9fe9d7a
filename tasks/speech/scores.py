"""The Scorer's function for speech: the candidate and the MFCC challenger on eval and test clips.

It runs the candidate's `evaluation` signature on the raw examples (WAV bytes, as served)
and scores both transcripts with the same arithmetic (components/transcripts.py).
"""
from __future__ import annotations

import tensorflow as tf

from components import examples_io, export
from components.transcripts import transcript_scores
from tasks.speech import features

SPLITS = ("eval", "test")
TRANSCRIBERS = {"model": features.TRANSCRIPT_KEY, "baseline": features.baseline_output_key(features.TRANSCRIPT_KEY)}


def score(model_dir: str, examples_uri: str, config: dict) -> dict:
    """{split: {"model"|"baseline": {"accuracy", "cer"}}, "examples": {split: N}}."""
    del config  # the alphabet travels in the model
    signature = tf.saved_model.load(model_dir).signatures[export.EVALUATION_SIGNATURE]
    result: dict = {"examples": {}}
    for split in SPLITS:
        records = examples_io.read_split(examples_uri, split)
        outputs = export.call_in_batches(signature, records, 128)
        truth = examples_io.first_strings(records, features.TRANSCRIPT_KEY)
        result[split] = {
            name: transcript_scores(truth, [t.decode() for t in outputs[key].reshape(-1)])
            for name, key in TRANSCRIBERS.items()
        }
        result["examples"][split] = len(records)
    return result
