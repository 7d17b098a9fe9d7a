"""The speech gate: exact transcripts and character error rate against the MFCC challenger."""
from __future__ import annotations

import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import classifier_metrics, examples_io, export, paired_gate
from components.gate_config import classification_gate, exact_losses
from data.config import PipelineConfig
from tasks.speech import features

CHALLENGER = "MFCC baseline (logistic regression on mean MFCCs over the train transcripts)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Exact-transcript accuracy and character error rate of the candidate and of the MFCC
    challenger on the same eval clips, overall and by speaker (reported; the blessing is
    the paired gate's, `gate`)."""
    del config
    keys = {"label_key": features.TRANSCRIPT_KEY, "prediction_key": features.TRANSCRIPT_KEY, "challenger": CHALLENGER}
    metrics = [
        tfma.MetricConfig(
            class_name=classifier_metrics.BaselineAgreement.__name__,
            module=classifier_metrics.__name__,
            config=json.dumps({"name": name, **keys}),
        )
        for name in classifier_metrics.TRANSCRIPT_METRIC_NAMES
    ]
    return tfma.EvalConfig(
        # The transcript is a string: no label or prediction key for TFMA's own metrics to read.
        model_specs=[tfma.ModelSpec(signature_name=export.EVALUATION_SIGNATURE)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.SPEAKER_KEY])],
        metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), *metrics])],
    )


def gate(config: PipelineConfig) -> paired_gate.GateSpec:
    """Exact transcripts per eval clip: better than always saying the most frequent transcript,
    not worse than the MFCC challenger by more than `evaluation.margin` (or better, with
    `beat_strong`); the speech transformer has no linear start, so its gain is reported over
    the MFCC regression."""
    return classification_gate(
        config, f"{__name__}.losses", CHALLENGER, "baseline", f"the {CHALLENGER}", grows_from_start=False
    )


def losses(outputs: dict, records: list[bytes], config: dict) -> dict[str, np.ndarray]:
    """1 - exact match per clip of the candidate (`model`), the MFCC challenger (`baseline`)
    and the most frequent eval transcript (`majority`)."""
    del config
    truth = examples_io.first_strings(records, features.TRANSCRIPT_KEY)
    keys = {"model": features.TRANSCRIPT_KEY, "baseline": features.baseline_output_key(features.TRANSCRIPT_KEY)}
    predicted = {name: [t.decode() for t in np.asarray(outputs[key]).reshape(-1)] for name, key in keys.items() if key in outputs}
    return exact_losses(truth, predicted)
