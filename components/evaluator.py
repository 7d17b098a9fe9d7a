"""Evaluator: TFX's Evaluator, which first checks that the deployed model can read this run's examples.

The baseline (the latest blessed model) was trained on the examples of its own run.
When `lookback`, `horizon`, the columns or the label set change, it cannot parse the
new examples, or its outputs no longer match the candidate's, and TFMA would crash
the run deep inside Beam. This executor calls both models' evaluation signature on a
few eval examples first. If the baseline fails, or its outputs differ in name or
shape, the run evaluates without it, as on a first run: the candidate must still
beat every challenger, and the change thresholds against the deployed model are
skipped. The reason is printed, recorded on the evaluation and blessing artifacts
in ML Metadata (`baseline_skipped`), and shown by the summary, `make inspect` and
the report.
"""
from __future__ import annotations

import json

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import path_utils, proto_utils

from components import examples_io
from components.export import call_in_batches
from data.notices import notices

BASELINE_SKIPPED = "baseline_skipped"  # custom property: why the deployed model was not compared
PROBE_EXAMPLES = 8  # eval examples both models are called on


def outputs_on(model_dir: str, signature_name: str, records: list[bytes]) -> dict:
    signatures = tf.saved_model.load(model_dir).signatures
    if signature_name not in signatures:
        raise KeyError(f"it has no '{signature_name}' signature (it has {sorted(signatures)})")
    return call_in_batches(signatures[signature_name], records)


def incompatibility(candidate_dir: str, baseline_dir: str, signature_name: str, records: list[bytes]) -> str | None:
    """Why the baseline cannot be compared with the candidate on `records`, or None."""
    candidate = outputs_on(candidate_dir, signature_name, records)
    try:
        baseline = outputs_on(baseline_dir, signature_name, records)
    except (tf.errors.OpError, KeyError, ValueError, TypeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"it cannot read this run's examples ({first_line[:300]})"
    missing = sorted(set(candidate) - set(baseline))
    if missing:
        return f"it has no output {missing} (the columns or classes changed)"
    changed = {k: (baseline[k].shape[1:], v.shape[1:]) for k, v in candidate.items() if baseline[k].shape[1:] != v.shape[1:]}
    if changed:
        shown = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in sorted(changed.items()))
        return f"its outputs have other shapes ({shown}; the horizon or the classes changed)"
    return None


def eval_splits(exec_properties) -> list[str]:
    """The Evaluator's `example_splits` (a JSON list; empty or null means "eval")."""
    return json.loads(exec_properties.get(standard_component_specs.EXAMPLE_SPLITS_KEY) or "null") or []


def baseline_problem(input_dict, exec_properties) -> str | None:
    """Why the baseline model cannot be compared on this run's examples, or None (also when there is none)."""
    specs = standard_component_specs
    if not input_dict.get(specs.BASELINE_MODEL_KEY):
        return None
    eval_config = tfma.EvalConfig()
    proto_utils.json_to_proto(exec_properties[specs.EVAL_CONFIG_KEY], eval_config)
    examples = artifact_utils.get_single_instance(input_dict[specs.EXAMPLES_KEY])
    records = examples_io.read_split(examples.uri, (eval_splits(exec_properties) or ["eval"])[0], PROBE_EXAMPLES)
    candidate = artifact_utils.get_single_instance(input_dict[specs.MODEL_KEY])
    baseline = artifact_utils.get_single_instance(input_dict[specs.BASELINE_MODEL_KEY])
    reason = incompatibility(
        path_utils.serving_model_path(candidate.uri),
        path_utils.serving_model_path(baseline.uri),
        eval_config.model_specs[0].signature_name or "serving_default",
        records,
    )
    if reason is None:
        return None
    return (
        f"the deployed model ({baseline.uri}) was not compared: {reason}. Evaluated against the "
        "challengers only, as on a first run; if blessed, this model replaces it."
    )


class Executor(tfx_evaluator.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        problem = baseline_problem(input_dict, exec_properties)
        if problem:
            notices().warning(f"Evaluator: {problem}")
            input_dict = {k: v for k, v in input_dict.items() if k != standard_component_specs.BASELINE_MODEL_KEY}
            for key in (standard_component_specs.EVALUATION_KEY, standard_component_specs.BLESSING_KEY):
                for artifact in output_dict.get(key, []):
                    artifact.set_string_custom_property(BASELINE_SKIPPED, problem)
        super().Do(input_dict, output_dict, exec_properties)


class Evaluator(tfx.components.Evaluator):
    """TFX's Evaluator with the executor above (same inputs, outputs and properties)."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
