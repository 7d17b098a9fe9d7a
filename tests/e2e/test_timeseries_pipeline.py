"""End to end: the time-series pipeline on LocalDagRunner, tiny data, small budget.

One output directory is shared by three runs, in order: a run that pushes, a run
with a deliberately weak model that must not be pushed, and a run on a CSV with a
corrupted column that must stop at validation. The deployed model must survive the
last two untouched.
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from components import paired_gate
from components.examples_io import read_split
from pipeline import mlmd, summary
from pipeline.config import load_config
from serving import serving_model
from tasks.timeseries import features, predict
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task
from tests.e2e.tiny import SMALL_BUDGET, write_tiny_csv

pytestmark = pytest.mark.e2e

ALL_COMPONENTS = {
    "ExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
    "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher", "Scorer",
}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("timeseries_e2e")
    csv, frame = write_tiny_csv(root)
    return {"root": root, "csv": csv, "output": str(root / "output"), "frame": frame}


def _run(workspace, *overrides, csv=None) -> int:
    return run_task("timeseries", workspace["output"], *SMALL_BUDGET, *overrides, data=csv or workspace["csv"])


def _serving_snapshot(workspace) -> dict[str, str]:
    return bad_inputs.snapshot(load_config("timeseries", output_dir=workspace["output"]).serving_dir)


def _last_run(workspace):
    config = load_config("timeseries", output_dir=workspace["output"])
    store = mlmd.open_store(config.metadata_path)
    return {e.node: e for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}


# The course's encoder on a seasonal-naive base, with a learning rate too small to move
# it: it forecasts like seasonal naive, far worse than persistence on this series.
WEAK_MODEL = ["model.variant=encoder", "model.naive_base=seasonal", "model.learning_rate=1e-9"]


@pytest.fixture(scope="module")
def weak_first_run(workspace):
    """Before anything is deployed: a weak model blesses nothing, and the summary says so."""
    assert _run(workspace, *WEAK_MODEL) == 0
    config = load_config("timeseries", output_dir=workspace["output"])
    return _last_run(workspace), summary.summarize(config.metadata_path)  # what the run printed last


@pytest.fixture(scope="module")
def first_run(workspace, weak_first_run):
    assert _run(workspace) == 0
    return _last_run(workspace)


def test_a_first_run_that_blesses_nothing_deploys_nothing_and_says_so(workspace, weak_first_run):
    run, out = weak_first_run
    assert mlmd.custom(run["Evaluator"].outputs["blessing"][0], "blessed") == 0
    assert "no model is deployed yet" in out and "When nothing is deployed" in out
    assert "the persistence challenger: " in out and "(must be better: FAILED)" in out
    assert not glob.glob(os.path.join(workspace["output"], "timeseries", "serving", "*"))


def test_every_component_executes_and_the_model_is_pushed(workspace, first_run):
    assert set(first_run) == ALL_COMPONENTS
    assert first_run["ExampleGen"].state == "CACHED"  # shared with the weak run before it
    assert {e.state for e in first_run.values() if e.node not in ("ExampleGen", "StatisticsGen", "CuratedSchemaGen",
            "ExampleValidator", "AnomalyGate", "Transform")} == {"COMPLETE"}  # fmt: skip
    pushed = first_run["Pusher"].outputs["pushed_model"][0]
    assert mlmd.custom(pushed, "pushed") == 1
    assert glob.glob(os.path.join(workspace["output"], "timeseries", "serving", "*", "saved_model.pb"))


def test_pushed_model_forecasts_in_original_units(workspace, first_run):
    config = load_config("timeseries", output_dir=workspace["output"])
    _, serve = serving_model.load_serving_fn(config)
    examples_uri = first_run["ExampleGen"].outputs["examples"][0].uri
    records = tf.data.TFRecordDataset(glob.glob(os.path.join(examples_uri, "Split-test", "*")), "GZIP")
    serialized = tf.constant([r.numpy() for r in records.take(64)])
    forecast = serve(examples=serialized)[features.forecast_output_key("glucose")].numpy()  # (64, 12)
    labels = np.stack(
        [tf.train.Example.FromString(s.numpy()).features.feature["glucose_target"].float_list.value for s in serialized]
    )
    values = workspace["frame"]["glucose"]
    assert forecast.shape == (64, config.series.horizon)
    assert values.min() - 20 < forecast.min() and forecast.max() < values.max() + 20  # mg/dL, not z-scores
    assert np.abs(forecast - labels).mean() < 0.5 * values.std()

    table = predict.forecast_frame(config, workspace["csv"], serve)
    assert len(table) == config.series.horizon
    assert abs(table["glucose"].iloc[0] - values.iloc[-1]) < 20.0  # 5 minutes on, near the last reading (mg/dL)


def test_weak_model_is_not_pushed_and_deployment_is_unchanged(workspace, first_run):
    before = _serving_snapshot(workspace)
    assert _run(workspace, *WEAK_MODEL) == 0  # its training is cached; the Evaluator now has a baseline
    run = _last_run(workspace)
    assert mlmd.custom(run["Evaluator"].outputs["blessing"][0], "blessed") == 0
    judged = json.loads(mlmd.custom(run["Evaluator"].outputs["blessing"][0], paired_gate.GATE_PROPERTY))
    assert not judged["gate"]["persistence"]["passed"] and not judged["gate"]["linear"]["passed"]  # the challengers stopped it
    deployed = judged["gate"]["deployed"]  # the first run's model, on the same gate windows
    assert deployed["verdict"] == "worse" and not deployed["passed"]
    assert any("from the persistence challenger" in r or "than the persistence challenger" in r for r in judged["reasons"])
    assert mlmd.custom(run["Pusher"].outputs["pushed_model"][0], "pushed") == 0
    assert run["ExampleGen"].state == "CACHED" and run["Transform"].state == "CACHED"
    assert _serving_snapshot(workspace) == before


@pytest.mark.parametrize("make, expected", [(m, e) for _, m, e in bad_inputs.end_to_end(bad_inputs.TIMESERIES)],
                         ids=[name for name, _, _ in bad_inputs.end_to_end(bad_inputs.TIMESERIES)])  # fmt: skip
def test_bad_input_stops_before_training_and_leaves_the_deployed_model(workspace, first_run, capsys, make, expected):
    config = load_config("timeseries", output_dir=workspace["output"])
    before = bad_inputs.snapshot(config.serving_dir)
    assert before  # a model is deployed
    csv = bad_inputs.write_timeseries_case(make, workspace["frame"], workspace["root"] / "bad.csv")
    code = _run(workspace, csv=csv)
    bad_inputs.assert_stopped_before_transform(code, capsys.readouterr().err, expected, config, before)


@pytest.fixture(scope="module")
def served(workspace, first_run):
    """The pushed model's serving directory, a few test examples, and the same windows as raw JSON."""
    serving = load_config("timeseries", output_dir=workspace["output"]).serving_dir
    records = read_split(first_run["ExampleGen"].outputs["examples"][0].uri, "test", limit=4)
    windows = [list(tf.train.Example.FromString(r).features.feature["glucose"].float_list.value) for r in records]
    return serving, records, {"glucose": windows}


def test_serving_answers_both_formats_as_the_model_does(served):
    serving, records, raw = served
    serving_checks.check_predict_formats("timeseries", serving, records, raw)


def test_serving_rejects_malformed_requests_and_stays_up(served):
    serving, _, raw = served
    serving_checks.check_malformed_requests("timeseries", serving, raw)


def test_serving_picks_up_a_new_version(served):
    serving, records, _ = served
    serving_checks.check_new_version_is_picked_up("timeseries", serving, records)
