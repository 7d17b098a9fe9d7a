"""The speech gate: exact transcripts and character error rate against the MFCC challenger."""
from __future__ import annotations

import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import classifier_metrics, export
from components.gate_config import checked_min_improvement, overall_only
from data.config import PipelineConfig
from tasks.speech import features

CHALLENGER = "MFCC baseline (logistic regression on mean MFCCs over the train transcripts)"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """Exact-transcript accuracy and character error rate of the candidate and of the MFCC challenger
    on the same eval clips, overall and by speaker; bless only when the candidate's accuracy beats the
    challenger's by more than `min_improvement` (accuracy points) and drops by at most
    `max_accuracy_drop` against the deployed model."""
    limits = config.evaluation
    margin = checked_min_improvement(float(limits.get("min_improvement", 0.0)), "accuracy points")
    keys = {"label_key": features.TRANSCRIPT_KEY, "prediction_key": features.TRANSCRIPT_KEY, "challenger": CHALLENGER}
    thresholds = {
        classifier_metrics.ACCURACY_OVER_BASELINE: tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": float(np.nextafter(margin, 1.0))})
        ),
        classifier_metrics.ACCURACY: tfma.MetricThreshold(
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": -limits.get("max_accuracy_drop", 0.0)},
            )
        ),
    }
    metrics = [
        tfma.MetricConfig(
            class_name=classifier_metrics.BaselineAgreement.__name__,
            module=classifier_metrics.__name__,
            config=json.dumps({"name": name, **keys}),
            per_slice_thresholds=overall_only(thresholds[name]) if name in thresholds else [],
        )
        for name in classifier_metrics.TRANSCRIPT_METRIC_NAMES
    ]
    return tfma.EvalConfig(
        # The transcript is a string: no label or prediction key for TFMA's own metrics to read.
        model_specs=[tfma.ModelSpec(signature_name=export.EVALUATION_SIGNATURE)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.SPEAKER_KEY])],
        metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), *metrics])],
    )
