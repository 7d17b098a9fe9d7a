"""Evaluator: TFX's Evaluator, which first checks that the deployed model can read this run's examples.

The baseline (the latest blessed model) was trained on the examples of its own run.
When `lookback`, `horizon`, the columns or the label set change, it cannot parse the
new examples, or its outputs no longer match the candidate's, and TFMA would crash
the run deep inside Beam. This executor calls both models' evaluation signature on a
few eval examples first, and tells two cases apart:
- *incompatible*: it loads, but this run's examples lack a feature it reads or hold
  another number of values (checked against its own raw features, its `predict_raw`
  inputs), or its outputs differ in name or shape. The run evaluates without it, as on
  a first run: the candidate must still beat every challenger, and the comparison
  with the deployed model is skipped. The reason is printed, recorded on the
  evaluation and blessing artifacts in ML Metadata (`baseline_skipped`), and shown by
  the summary, `make inspect` and the report.
- *broken*: its SavedModel cannot be loaded, or its signature fails on examples that
  carry every feature it reads with the shapes it expects. The run stops with an error
  naming the model's path, since a blessed candidate would otherwise silently replace a
  deployment that someone should look at; `evaluation.replace_broken_deployed: true`
  evaluates without it instead, and records why (`baseline_skipped`).

The blessing itself comes from the paired gate (components/paired_gate.py): after TFMA has
computed its metrics (and any threshold a user adds), the executor scores the candidate,
its challengers and the deployed model on every eval example in order, judges each
comparison by its interval, and writes the blessing, which is blessed only when TFMA's
validation (if any) and every paired rule pass.
"""
from __future__ import annotations

import json
import os

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx import types as tfx_types
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.components.evaluator.component import Evaluator as TfxEvaluator
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import io_utils, json_utils, path_utils, proto_utils

from components import examples_io, paired_gate, raw_features, tf_errors, training
from components.export import call_in_batches
from components.scoring import load_function
from data.notices import notices

BASELINE_SKIPPED = "baseline_skipped"  # custom property: why the deployed model was not compared
REPLACE_BROKEN_DEPLOYED = "replace_broken_deployed"  # config `evaluation.<this>` and the Evaluator's exec property
PROBE_EXAMPLES = 8  # eval examples both models are called on
MIN_GATE_EXAMPLES = 10  # fewer gate examples give no usable interval


class BrokenDeployedModel(RuntimeError):
    """The deployed model cannot be loaded, or fails on examples it should read."""


def is_parse_error(error: Exception) -> bool:
    """An error of ParseExample (a feature missing or of another length): the examples, not the model."""
    return isinstance(error, tf.errors.InvalidArgumentError) and "ParseExample" in str(error)


def unreadable(records: list[bytes], signatures, error: Exception) -> str | None:
    """Why the examples are not what the model reads, or None when they are (then its failure is its own).
    Checked against its raw features when it has `predict_raw`, else told by the error (a parse error)."""
    specs = raw_features.raw_feature_specs(signatures)
    found = raw_features.mismatch(records, specs) if specs is not None else None
    return found or (tf_errors.summary(error) if is_parse_error(error) else None)


def incompatibility(candidate_dir: str, baseline_dir: str, signature_name: str, records: list[bytes]) -> str | None:
    """Why the baseline cannot be compared with the candidate on `records`, or None.
    Raises BrokenDeployedModel when the baseline is broken rather than incompatible."""
    candidate = call_in_batches(tf.saved_model.load(candidate_dir).signatures[signature_name], records)
    try:
        signatures = tf.saved_model.load(baseline_dir).signatures
    except Exception as error:  # noqa: BLE001  (whatever the class, a model that does not load is broken)
        raise BrokenDeployedModel(f"its SavedModel cannot be loaded ({tf_errors.summary(error)})") from error
    if signature_name not in signatures:
        return f"it has no '{signature_name}' signature (it has {sorted(signatures)})"
    try:
        baseline = call_in_batches(signatures[signature_name], records)
    except (tf.errors.OpError, ValueError, TypeError) as error:
        reason = unreadable(records, signatures, error)
        if reason is None:
            raise BrokenDeployedModel(
                f"its '{signature_name}' signature fails on this run's examples, which carry every feature it "
                f"reads with the shapes it expects ({tf_errors.summary(error)})"
            ) from error
        return f"it cannot read this run's examples ({reason})"
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
    """Why the baseline model is not compared on this run's examples, or None (also when there is none).
    Raises BrokenDeployedModel for a broken baseline, unless `replace_broken_deployed` is set."""
    specs = standard_component_specs
    if not input_dict.get(specs.BASELINE_MODEL_KEY):
        return None
    eval_config = tfma.EvalConfig()
    proto_utils.json_to_proto(exec_properties[specs.EVAL_CONFIG_KEY], eval_config)
    examples = artifact_utils.get_single_instance(input_dict[specs.EXAMPLES_KEY])
    records = examples_io.read_split(examples.uri, (eval_splits(exec_properties) or ["eval"])[0], PROBE_EXAMPLES)
    candidate = artifact_utils.get_single_instance(input_dict[specs.MODEL_KEY])
    baseline_dir = path_utils.serving_model_path(artifact_utils.get_single_instance(input_dict[specs.BASELINE_MODEL_KEY]).uri)
    signature_name = eval_config.model_specs[0].signature_name or "serving_default"
    try:
        reason = incompatibility(path_utils.serving_model_path(candidate.uri), baseline_dir, signature_name, records)
    except BrokenDeployedModel as error:
        if not exec_properties.get(REPLACE_BROKEN_DEPLOYED):
            raise BrokenDeployedModel(
                f"the deployed model at {baseline_dir} is broken: {error}. The run stops rather than replace it "
                "unseen: restore that model, or rerun with SET=\"evaluation.replace_broken_deployed=true\" to "
                "evaluate without it (the candidate, if blessed, then replaces it)."
            ) from error
        return (
            f"the deployed model ({baseline_dir}) was not compared: it is broken: {error}. Evaluated against the "
            "challengers only (evaluation.replace_broken_deployed); if blessed, this model replaces it."
        )
    if reason is None:
        return None
    return (
        f"the deployed model ({baseline_dir}) was not compared: {reason}. Evaluated against the "
        "challengers only, as on a first run; if blessed, this model replaces it."
    )


def outputs_on(model_dir: str, signature_name: str, records: list[bytes]) -> dict:
    """Every output of a model's signature on `records`."""
    return call_in_batches(tf.saved_model.load(model_dir).signatures[signature_name], records)


def paired_judgement(input_dict, exec_properties) -> dict | None:
    """The paired gate's result on every eval example (None when the EvalConfig's task set none)."""
    raw = exec_properties.get(paired_gate.PAIRED_GATE_KEY)
    if not raw:
        return None
    spec = paired_gate.GateSpec.from_json(raw)
    specs = standard_component_specs
    eval_config = tfma.EvalConfig()
    proto_utils.json_to_proto(exec_properties[specs.EVAL_CONFIG_KEY], eval_config)
    signature = eval_config.model_specs[0].signature_name or "serving_default"
    examples = artifact_utils.get_single_instance(input_dict[specs.EXAMPLES_KEY])
    split = (eval_splits(exec_properties) or ["eval"])[0]
    records = examples_io.read_split(examples.uri, split)  # in file (time) order
    if len(records) < MIN_GATE_EXAMPLES:
        raise ValueError(
            f"the '{split}' split (the part of eval the gate judges on, data/splits.py) has {len(records)} examples "
            f"under {examples.uri}: at least {MIN_GATE_EXAMPLES} are needed for an interval. Use more data or a larger eval fraction."
        )
    losses_of = load_function(spec.losses)
    candidate = artifact_utils.get_single_instance(input_dict[specs.MODEL_KEY])
    losses = losses_of(outputs_on(path_utils.serving_model_path(candidate.uri), signature, records), records, spec.config)
    deployed = None
    if input_dict.get(specs.BASELINE_MODEL_KEY):
        baseline = artifact_utils.get_single_instance(input_dict[specs.BASELINE_MODEL_KEY])
        outputs = outputs_on(path_utils.serving_model_path(baseline.uri), signature, records)
        deployed = losses_of(outputs, records, spec.config)[paired_gate.CANDIDATE]
    record = training.training_record(candidate.uri)
    return paired_gate.judge(spec, losses, deployed, record.get("kept_epoch"), bool(record.get("warm_started")))


def write_blessing(blessing, input_dict, blessed: bool) -> None:
    """The blessing as TFX's Evaluator writes it (the Pusher and the resolver read it)."""
    specs = standard_component_specs
    model = input_dict[specs.MODEL_KEY][0]
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    if input_dict.get(specs.BASELINE_MODEL_KEY):
        baseline = input_dict[specs.BASELINE_MODEL_KEY][0]
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id)
    for name in (constants.BLESSED_FILE_NAME, constants.NOT_BLESSED_FILE_NAME):
        path = os.path.join(blessing.uri, name)
        if tf.io.gfile.exists(path):
            tf.io.gfile.remove(path)
    name = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, name), "")
    value = constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, value)


class Executor(tfx_evaluator.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        specs = standard_component_specs
        problem = baseline_problem(input_dict, exec_properties)
        if problem:
            notices().warning(f"Evaluator: {problem}")
            input_dict = {k: v for k, v in input_dict.items() if k != specs.BASELINE_MODEL_KEY}
            for key in (specs.EVALUATION_KEY, specs.BLESSING_KEY):
                for artifact in output_dict.get(key, []):
                    artifact.set_string_custom_property(BASELINE_SKIPPED, problem)
        judgement = paired_judgement(input_dict, exec_properties)
        tfma_properties = {k: v for k, v in exec_properties.items() if k != paired_gate.PAIRED_GATE_KEY}
        super().Do(input_dict, output_dict, tfma_properties)
        blessing = artifact_utils.get_single_instance(output_dict[specs.BLESSING_KEY])
        key = constants.ARTIFACT_PROPERTY_BLESSED_KEY  # absent when TFMA had no threshold to validate
        validated = blessing.get_int_custom_property(key) == constants.BLESSED_VALUE if blessing.has_custom_property(key) else None
        if judgement is None:
            if validated is None:  # fail closed: no rule at all blesses nothing
                notices().warning("Evaluator: the task sets no gate (TaskSpec.gate) and its EvalConfig no threshold: nothing is blessed")
                write_blessing(blessing, input_dict, False)
            return
        evaluation = artifact_utils.get_single_instance(output_dict[specs.EVALUATION_KEY])
        paired_gate.write(judgement, evaluation.uri, [evaluation, blessing])
        write_blessing(blessing, input_dict, validated is not False and judgement["blessed"])  # TFMA's own thresholds still count


class EvaluatorSpec(standard_component_specs.EvaluatorSpec):
    """TFX's Evaluator spec plus the paired gate (a GateSpec as JSON) and `replace_broken_deployed` (0 or 1)."""

    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        paired_gate.PAIRED_GATE_KEY: ExecutionParameter(type=str, optional=True),
        REPLACE_BROKEN_DEPLOYED: ExecutionParameter(type=int, optional=True),
    }


class Evaluator(TfxEvaluator):
    """TFX's Evaluator with the executor above: the same inputs and outputs, the arguments this
    project uses, the paired gate that blesses (`gate`), and `replace_broken_deployed` (evaluate
    without a broken deployed model instead of stopping)."""

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self,
        examples: tfx_types.BaseChannel,
        model: tfx_types.BaseChannel,
        eval_config: tfma.EvalConfig,
        baseline_model: tfx_types.BaseChannel | None = None,
        example_splits: list[str] | None = None,
        replace_broken_deployed: bool = False,
        gate: paired_gate.GateSpec | None = None,
    ):
        spec = EvaluatorSpec(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            fairness_indicator_thresholds=json_utils.dumps(None),
            example_splits=json_utils.dumps(example_splits),
            eval_config=eval_config,
            evaluation=tfx_types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=tfx_types.Channel(type=standard_artifacts.ModelBlessing),
            **{REPLACE_BROKEN_DEPLOYED: int(bool(replace_broken_deployed))},
            **({paired_gate.PAIRED_GATE_KEY: gate.to_json()} if gate is not None else {}),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)  # TFX's __init__ would build its own spec
