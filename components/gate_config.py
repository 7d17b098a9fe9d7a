"""The gate's shared pieces: `evaluation:`'s rules (margins, `beat_strong`), the classification
gate every classifier task uses (its TFMA metrics and its paired rule), and helpers.

Metric names come from the metric modules and feature keys from `data.features`, so nothing
here is spelled twice. A task's own EvalConfig is in `tasks/<task>/gate.py`.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import tensorflow_model_analysis as tfma

from components import classifier_metrics, export, paired_gate
from data import features
from data.config import PipelineConfig

SHOWN_DIGITS = 6  # bounds are shown rounded: 0.9999999999999999 (strictly below 1) reads as 1


def number(value: float) -> str:
    """A bound or value as a rule shows it: rounded, so 0.9999999999999999 (strictly below 1) reads as 1."""
    return f"{round(float(value), SHOWN_DIGITS):g}"


DEFAULT_MARGIN = 0.02  # non-inferiority margin when a config sets none (2 % of the MAE; 2 accuracy points)
REPLACED_KEYS = {  # the point-estimate thresholds the paired rules replaced
    "min_improvement": "evaluation.margin (and evaluation.beat_strong: true to require `better`)",
    "max_mae_increase": "evaluation.deployed_margin (a fraction of the deployed model's MAE)",
    "max_accuracy_drop": "evaluation.deployed_margin (accuracy points)",
}


@dataclasses.dataclass(frozen=True)
class GateSettings:
    """`evaluation:` as the paired gate reads it."""

    margin: float  # non-inferiority to the strong challenger
    deployed_margin: float  # non-inferiority to the deployed model
    beat_strong: bool  # the strong challenger's rule is superiority instead

    def strong(self, name: str, label: str) -> paired_gate.Comparison:
        """The strong simple challenger's comparison (ridge, TF-IDF, pixel or MFCC regression)."""
        if self.beat_strong:
            return paired_gate.Comparison(name, label, paired_gate.SUPERIORITY)
        return paired_gate.Comparison(name, label, paired_gate.NON_INFERIORITY, self.margin)


def gate_settings(config: PipelineConfig, unit: str) -> GateSettings:
    """`evaluation.margin`, `deployed_margin` (default: the margin) and `beat_strong`, checked;
    a config that still sets a replaced threshold is an error naming its replacement."""
    limits = config.evaluation
    replaced = {k: v for k, v in REPLACED_KEYS.items() if k in limits}
    if replaced:
        raise ValueError(
            "the gate now decides on paired intervals; replace "
            + "; ".join(f"evaluation.{k} with {v}" for k, v in replaced.items())
            + " (docs/gate.md)"
        )
    margin = paired_gate.margin_in(limits.get("margin", DEFAULT_MARGIN), unit, "margin")
    deployed = paired_gate.margin_in(limits.get("deployed_margin", margin), unit, "deployed_margin")
    beat_strong = limits.get("beat_strong", False)
    if not isinstance(beat_strong, bool):
        raise ValueError(f"evaluation.beat_strong ({beat_strong!r}) must be true or false")
    return GateSettings(margin, deployed, beat_strong)


def schema_string_domain(schema_path: str, feature_name: str) -> list[str]:
    """The values of `feature_name`'s string domain in the curated schema."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    with open(schema_path) as handle:
        schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    for feature in schema.feature:
        if feature.name != feature_name:
            continue
        if feature.HasField("string_domain"):
            return list(feature.string_domain.value)
        for domain in schema.string_domain:
            if domain.name == feature.domain:
                return list(domain.value)
    raise ValueError(
        f"the schema {schema_path} declares no string domain for '{feature_name}': list the classes "
        "there (they are validated, and the Evaluator reports metrics per class)"
    )


def overall_only(threshold: tfma.MetricThreshold) -> list[tfma.PerSliceMetricThreshold]:
    """A threshold on the whole eval split only: slices (such as text length) are reported, not gated;
    a small slice would otherwise stop a model that wins overall."""
    return [tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]


def classification_eval_config(config: PipelineConfig, challenger: str, slices: list[tfma.SlicingSpec] = ()) -> tfma.EvalConfig:
    """Accuracy, one-vs-rest AUC (macro over classes) and per-class precision/recall/AUC, and
    the `challenger`'s accuracy on the same examples, overall and on `slices`. They are
    reported; the blessing is the paired gate's (`classification_gate`)."""
    num_classes = len(schema_string_domain(config.schema_path, features.LABEL_KEY))
    model_spec = tfma.ModelSpec(
        signature_name=export.EVALUATION_SIGNATURE,
        label_key=features.LABEL_KEY,  # the user's string; TFMA maps it through `all_classes`
        prediction_key=features.PROBABILITIES_KEY,
    )
    # The candidate's accuracy and the challenger's, counted in one pass over the predicted labels
    # (`accuracy`, `baseline_accuracy`, `accuracy_over_baseline`). Keras's SparseCategoricalAccuracy,
    # which TFMA ran through tf_keras batch by batch and slice by slice, took 3 of a 400-text
    # Evaluator's 12 s in a sampling profile (in four alternating runs: 7.2-8.2 s before, 4.3-7.6 s after).
    against_baseline = [
        tfma.MetricConfig(
            class_name=classifier_metrics.BaselineAgreement.__name__,
            module=classifier_metrics.__name__,
            config=json.dumps({"name": name, "challenger": challenger}),
        )
        for name in classifier_metrics.METRIC_NAMES
    ]
    overall = tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), *against_baseline])
    macro_auc = tfma.MetricsSpec(  # one-vs-rest AUC of each class, averaged with equal weights
        metrics=[tfma.MetricConfig(class_name="AUC")],
        aggregate=tfma.AggregationOptions(
            macro_average=True, class_weights={i: 1.0 for i in range(num_classes)}
        ),
    )
    per_class = tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name=name) for name in ("AUC", "Precision", "Recall")],
        binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
    )
    return tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec(), *slices],
        metrics_specs=[overall, macro_auc, per_class],
    )


MAJORITY = "majority"  # the naive classifier: always the eval split's most frequent label


def classification_gate(
    config: PipelineConfig, losses: str, challenger: str, start: str | None = None, start_label: str = "",
    grows_from_start: bool = True,
) -> paired_gate.GateSpec:
    """Correctness per eval example: better than the majority class (superiority), not worse
    than the `challenger` by more than `evaluation.margin` accuracy points (or better, with
    `beat_strong`), and than the deployed model by more than `deployed_margin`."""
    settings = gate_settings(config, paired_gate.POINTS_UNIT)
    return paired_gate.GateSpec(
        losses=losses,
        comparisons=(
            paired_gate.Comparison(MAJORITY, "the majority class", paired_gate.SUPERIORITY),
            settings.strong("baseline", f"the {challenger}"),
        ),
        deployed_margin=settings.deployed_margin,
        relative=False,
        unit=paired_gate.POINTS_UNIT,
        start=start,
        start_label=start_label,
        grows_from_start=grows_from_start,
    )


def exact_losses(truth: list[str], predicted: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """{name: (n,) 1 - exact match} for each predictor, and for the majority label of `truth`."""
    if not truth:
        raise ValueError("the eval split has no examples: the gate has nothing to judge")
    values, counts = np.unique(np.asarray(truth, dtype=object).astype(str), return_counts=True)
    majority = values[np.argmax(counts)]
    truth_array = np.asarray(truth, dtype=object)
    losses = {name: (np.asarray(p, dtype=object) != truth_array).astype(np.float64) for name, p in predicted.items()}
    losses[MAJORITY] = (truth_array != majority).astype(np.float64)
    return losses


def classifier_losses(outputs: dict, records: list[bytes], config: dict) -> dict[str, np.ndarray]:
    """The classification gate's losses: 1 - correct per eval example for the candidate
    (`model`), the challenger (`baseline`), the wide part when the model has one (`wide`)
    and the majority class."""
    from components import examples_io
    from components.classification import CLASSIFIERS

    del config  # the classes travel in the model
    truth = examples_io.first_strings(records, features.LABEL_KEY)
    predicted = {
        name: [v.decode() for v in np.asarray(outputs[prefix + features.PREDICTED_LABEL_KEY]).reshape(-1)]
        for name, prefix in CLASSIFIERS.items()
        if prefix + features.PREDICTED_LABEL_KEY in outputs
    }
    return exact_losses(truth, predicted)
