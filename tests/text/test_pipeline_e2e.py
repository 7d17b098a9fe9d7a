"""End-to-end text pipeline on a small sample (LocalDagRunner, minutes): `pytest -m e2e`."""
import contextlib
import glob
import io
import json
import os
import shutil

import pytest
import tensorflow as tf
from tfx.utils.path_utils import serving_model_path

from components import examples_io, paired_gate
from pipeline import evaluation_results, mlmd, run_local
from pipeline.config import load_config
from tasks.text import features
from tasks.text.predict import classify
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task

pytestmark = pytest.mark.e2e

TINY = [  # a small sample and a one-trial, one-epoch budget
    "text.max_examples=400",
    "text.vocab_size=2000",
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=3",
    "trainer.epochs=1",
    "model.over_baseline=false",  # the transformer alone: on 280 texts it cannot beat TF-IDF
]
COMPONENTS = {
    "ExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
    "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher", "Scorer",
}  # fmt: skip


def run(output_dir, data=None, overrides=()):
    return run_task("text", output_dir, *TINY, *overrides, data=data)


def pushed_versions(output_dir) -> list[str]:
    return glob.glob(str(load_config("text", output_dir=str(output_dir)).task_dir / "serving" / "*"))


@pytest.fixture(scope="module")
def weak_run(tmp_path_factory):
    """One epoch on 280 texts: a transformer that cannot beat TF-IDF + logistic regression."""
    output_dir = tmp_path_factory.mktemp("text")
    terminal = io.StringIO()  # what a user's terminal shows of the run
    with contextlib.redirect_stdout(terminal), contextlib.redirect_stderr(terminal):
        assert run(output_dir) == 0
    config = load_config("text", output_dir=str(output_dir))
    store = mlmd.open_store(config.metadata_path)
    return output_dir, {e.node: e for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}, terminal.getvalue()


# A run's terminal: progress, the overall metrics and the verdict; slices go to the report and run.log.
TERMINAL_LINES = 70


def test_the_terminal_shows_overall_metrics_and_the_verdict_not_slices(weak_run):
    output_dir, _, terminal = weak_run
    lines = terminal.splitlines()
    assert len(lines) <= TERMINAL_LINES, terminal
    assert any(line.startswith("Evaluator: NOT blessed (") and "FAILED" in line for line in lines)
    gate = [line.strip() for line in lines if "bag-of-n-grams baseline" in line and line.startswith("    ")]
    assert len(gate) == 1 and " points [" in gate[0] and "(may lose at most 2.00 points: FAILED)" in gate[0], gate
    assert not [line for line in lines if "{" in line], "metrics of slices on the terminal"
    assert any("TFMA's metrics: make inspect" in line for line in lines)  # counted; the gate's lines decide
    assert any("Trainer: epoch 1/1" in line for line in lines) and any("Tuner: trial 1/1" in line for line in lines)
    log = (load_config("text", output_dir=str(output_dir)).task_dir / run_local.LOG_FILE).read_text()
    assert "{length_bucket=" in log and "auc[fresh]" in log  # slices and per-class metrics (by class name) in the full log


def test_a_candidate_that_loses_to_the_baseline_is_not_pushed(weak_run):
    output_dir, executions, _ = weak_run
    assert set(executions) == COMPONENTS
    assert all(e.state == "COMPLETE" for e in executions.values()), [(e.node, e.state) for e in executions.values()]
    assert mlmd.custom(executions["Evaluator"].outputs["blessing"][0], "blessed") == 0
    results = evaluation_results.read_evaluation(executions["Evaluator"].outputs["evaluation"][0].uri, False)
    judged = json.loads(mlmd.custom(executions["Evaluator"].outputs["blessing"][0], paired_gate.GATE_PROPERTY))
    assert not judged["blessed"] and not judged["gate"]["baseline"]["passed"]
    assert judged["gate"]["baseline"]["ci_low"] <= -0.02  # a loss of 2 points is not excluded
    assert judged["transformer_gain"] is None  # the transformer alone has no start
    assert pushed_versions(output_dir) == []
    scores = json.loads(mlmd.custom(executions["Scorer"].outputs["scores"][0], "scores"))
    for split in ("eval", "test"):
        for classifier in ("model", "baseline"):
            assert set(scores[split][classifier]) == {"accuracy", "macro_f1", "auc"}
            assert all(0.0 <= v <= 1.0 for v in scores[split][classifier].values())
    # TFMA reads the gate's part of eval, the Scorer the selection part: they differ, and the gate's
    # examples are the ones the paired gate counted.
    assert judged["gate"]["baseline"]["examples"] == results["metrics"]["candidate"]["example_count"]


def test_the_candidate_classifies_raw_strings(weak_run):
    _, executions, _ = weak_run
    model_dir = serving_model_path(executions["Trainer"].outputs["model"][0].uri)
    serve = tf.saved_model.load(model_dir).signatures["serving_default"]
    results = classify(serve, ["A warm, funny and moving film.", "Tedious, loud and far too long.", ""])
    for label, probabilities in results:
        assert label in ("fresh", "rotten")
        assert set(probabilities) == {"fresh", "rotten"}
        assert abs(sum(probabilities.values()) - 1) < 1e-4


@pytest.fixture(scope="module")
def deployed(weak_run):
    """A deployed model beside the bad runs: the weak run's candidate, placed as a push would."""
    output_dir, executions, _ = weak_run
    serving = load_config("text", output_dir=str(output_dir)).serving_dir
    shutil.copytree(serving_model_path(executions["Trainer"].outputs["model"][0].uri), os.path.join(serving, "1"))
    return serving, bad_inputs.snapshot(serving)


@pytest.mark.parametrize("content, overrides, expected", [(c, o, e) for _, c, o, e in bad_inputs.end_to_end(bad_inputs.TEXT)],
                         ids=[name for name, *_ in bad_inputs.end_to_end(bad_inputs.TEXT)])  # fmt: skip
def test_bad_input_stops_before_training_and_leaves_the_deployed_model(
    weak_run, deployed, tmp_path, capsys, content, overrides, expected
):
    output_dir, _, _ = weak_run
    _, before = deployed
    csv = tmp_path / "bad.csv"
    csv.write_bytes(content)
    code = run(output_dir, data=str(csv), overrides=overrides)
    config = load_config("text", output_dir=str(output_dir))
    bad_inputs.assert_stopped_before_transform(code, capsys.readouterr().err, expected, config, before)


TEXTS = ["A warm, funny and moving film.", "Tedious, loud and far too long.", ""]


def test_serving_answers_both_formats_as_the_model_does(deployed):
    serving, _ = deployed
    records = [examples_io.to_tf_example({features.TEXT_KEY: t}).SerializeToString() for t in TEXTS]
    serving_checks.check_predict_formats("text", serving, records, {features.TEXT_KEY: TEXTS})


def test_serving_rejects_malformed_requests_and_stays_up(deployed):
    serving, _ = deployed
    serving_checks.check_malformed_requests("text", serving, {features.TEXT_KEY: TEXTS})


@pytest.fixture(scope="module")
def default_architecture_run(tmp_path_factory):
    """The default text model (a transformer over a wide TF-IDF part with character n-grams, its
    out-of-fold prior and `wide_*` outputs) on 2,000 snippets, through blessing and push. The
    margin is wide because the gate part holds only 150 examples: this run tests the path."""
    output_dir = tmp_path_factory.mktemp("text_default")
    overrides = [o for o in TINY if not o.startswith(("text.max_examples", "model.over_baseline"))]
    assert run_task("text", output_dir, *overrides, "text.max_examples=2000", "evaluation.margin=0.1") == 0
    store = mlmd.open_store(load_config("text", output_dir=str(output_dir)).metadata_path)
    return output_dir, {e.node: e for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}


def test_the_default_architecture_is_blessed_pushed_and_says_what_it_added(default_architecture_run):
    output_dir, executions = default_architecture_run
    blessing = executions["Evaluator"].outputs["blessing"][0]
    judged = json.loads(mlmd.custom(blessing, paired_gate.GATE_PROPERTY))
    assert mlmd.custom(blessing, "blessed") == 1 and judged["blessed"], judged["reasons"]
    assert judged["gate"]["majority"]["verdict"] == "better"
    assert set(judged["gate"]) == {"majority", "baseline"}  # nothing deployed yet
    gain = judged["transformer_gain"]
    assert "wide part" in gain["over"] and gain["ci_low"] <= gain["diff"] <= gain["ci_high"]
    assert isinstance(gain["kept_epoch"], int) and judged["statement"]
    assert len(pushed_versions(output_dir)) == 1
    model_dir = serving_model_path(executions["Trainer"].outputs["model"][0].uri)
    evaluation = tf.saved_model.load(model_dir).signatures["evaluation"]
    assert any(k.startswith(features.WIDE_PREFIX) for k in evaluation.structured_outputs)  # the wide part, scored alone
    scores = json.loads(mlmd.custom(executions["Scorer"].outputs["scores"][0], "scores"))
    assert set(scores["test"]) == {"model", "baseline", "wide"}
