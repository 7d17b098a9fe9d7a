"""The Evaluator's check of the deployed model: a broken one stops the run, an incompatible one is skipped.

Real tiny SavedModels (tests/window_models.py) stand in for the candidate and the deployed
model, with real Examples and Model artifacts, through the function the Evaluator's
executor calls first (`baseline_problem`): what it returns is what the executor records
as `baseline_skipped` before TFMA runs without the deployed model.
"""
from __future__ import annotations

import os
import shutil

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx.types import channel, standard_artifacts, standard_component_specs
from tfx.utils import path_utils, proto_utils

from components import examples_io
from components.evaluator import (
    REPLACE_BROKEN_DEPLOYED,
    BrokenDeployedModel,
    Evaluator,
    baseline_problem,
)
from components.export import EVALUATION_SIGNATURE
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from tests.window_models import save_window_model, saved_model_pb, truncate, window_records

SPECS = standard_component_specs


def model_artifact(uri: str, **model) -> tuple[standard_artifacts.Model, str]:
    artifact = standard_artifacts.Model()
    artifact.uri = uri
    export_dir = save_window_model(path_utils.serving_model_dir(uri), **model)
    return artifact, export_dir


@pytest.fixture
def run(tmp_path):
    """The candidate (3-value windows) and this run's eval examples; `check(deployed, replace)` runs the check."""
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples_io.write_split(examples.uri, "eval", (tf.train.Example.FromString(r) for r in window_records(8)))
    candidate, _ = model_artifact(str(tmp_path / "candidate"))
    eval_config = proto_utils.proto_to_json(tfma.EvalConfig(model_specs=[tfma.ModelSpec(signature_name=EVALUATION_SIGNATURE)]))

    def check(deployed: standard_artifacts.Model, replace: bool = False) -> str | None:
        inputs = {SPECS.EXAMPLES_KEY: [examples], SPECS.MODEL_KEY: [candidate], SPECS.BASELINE_MODEL_KEY: [deployed]}
        properties = {SPECS.EVAL_CONFIG_KEY: eval_config, SPECS.EXAMPLE_SPLITS_KEY: '["eval"]', REPLACE_BROKEN_DEPLOYED: int(replace)}
        return baseline_problem(inputs, properties)

    return check


@pytest.fixture
def corrupt(tmp_path):
    """A deployed model whose saved_model.pb was cut short, and its path."""
    deployed, export_dir = model_artifact(str(tmp_path / "deployed"))
    truncate(saved_model_pb(export_dir))
    return deployed, export_dir


def test_a_compatible_deployed_model_is_compared(run, tmp_path):
    deployed, _ = model_artifact(str(tmp_path / "deployed"), scale=3.0)
    assert run(deployed) is None


def test_a_corrupt_deployed_model_stops_the_run_and_names_its_path(run, corrupt):
    deployed, export_dir = corrupt
    with pytest.raises(BrokenDeployedModel) as raised:
        run(deployed)
    message = str(raised.value)
    assert export_dir in message
    assert "cannot be loaded" in message
    assert "evaluation.replace_broken_deployed=true" in message  # says how to go on


def test_a_deployed_model_without_its_variables_stops_the_run(run, tmp_path):
    deployed, export_dir = model_artifact(str(tmp_path / "deployed"))
    shutil.rmtree(os.path.join(export_dir, "variables"))
    with pytest.raises(BrokenDeployedModel, match="cannot be loaded"):
        run(deployed)


def test_a_deployed_model_that_fails_on_examples_it_reads_stops_the_run(run, tmp_path):
    deployed, export_dir = model_artifact(str(tmp_path / "deployed"), failing=True)
    with pytest.raises(BrokenDeployedModel) as raised:
        run(deployed)
    assert export_dir in str(raised.value)
    assert "this model always fails" in str(raised.value)  # the model's own error, not a parse error


def test_a_deployed_model_for_other_windows_is_skipped_and_said(run, tmp_path):
    deployed, export_dir = model_artifact(str(tmp_path / "deployed"), window=4)  # trained on 4-value windows
    reason = run(deployed)
    assert reason is not None and export_dir in reason
    assert "cannot read this run's examples" in reason
    assert "4 values of feature 'x'" in reason and "have 3" in reason


def test_a_deployed_model_that_also_fails_is_still_incompatible_when_the_examples_differ(run, tmp_path):
    deployed, _ = model_artifact(str(tmp_path / "deployed"), window=4, failing=True)
    assert "4 values of feature 'x'" in run(deployed)  # the parse fails first: nothing says it is broken


def test_with_the_flag_a_broken_deployed_model_is_skipped_and_recorded(run, corrupt):
    deployed, export_dir = corrupt
    reason = run(deployed, replace=True)
    assert reason is not None and export_dir in reason
    assert "broken" in reason and "cannot be loaded" in reason
    assert REPLACE_BROKEN_DEPLOYED in reason  # the record says which setting let it through


def test_the_flag_reaches_the_evaluator_from_the_config(tmp_path):
    for value, expected in (("false", 0), ("true", 1)):
        config = load_config("timeseries", overrides=[f"evaluation.{REPLACE_BROKEN_DEPLOYED}={value}"], output_dir=str(tmp_path))
        evaluators = [c for c in create_pipeline(config).components if isinstance(c, Evaluator)]
        assert [e.exec_properties[REPLACE_BROKEN_DEPLOYED] for e in evaluators] == [expected]
    default = load_config("timeseries", output_dir=str(tmp_path))
    assert [c.exec_properties[REPLACE_BROKEN_DEPLOYED] for c in create_pipeline(default).components if isinstance(c, Evaluator)] == [0]


def test_the_evaluator_keeps_tfx_inputs_and_outputs():
    evaluator = Evaluator(
        examples=channel.Channel(type=standard_artifacts.Examples),
        model=channel.Channel(type=standard_artifacts.Model),
        eval_config=tfma.EvalConfig(),
        baseline_model=channel.Channel(type=standard_artifacts.Model),
        example_splits=["eval"],
    )
    assert set(evaluator.inputs) == {SPECS.EXAMPLES_KEY, SPECS.MODEL_KEY, SPECS.BASELINE_MODEL_KEY}
    assert set(evaluator.outputs) == {SPECS.EVALUATION_KEY, SPECS.BLESSING_KEY}
    assert evaluator.exec_properties[SPECS.EXAMPLE_SPLITS_KEY] == '["eval"]'
