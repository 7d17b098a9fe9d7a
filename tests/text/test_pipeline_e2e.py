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

from components import examples_io
from pipeline import evaluation_results, mlmd, run_local
from pipeline.config import load_config
from tasks.text import features
from tasks.text import gate as text_gate
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
    assert any(line.startswith("Evaluator: NOT blessed (stopped by the bag-of-n-grams baseline") for line in lines)
    assert any(line.strip().startswith("FAILED accuracy_over_baseline = ") and "bound" in line for line in lines)
    assert not [line for line in lines if "{" in line], "metrics of slices on the terminal"
    assert any("auc[fresh]" in line for line in lines)  # per-class metrics by class name
    log = (load_config("text", output_dir=str(output_dir)).task_dir / run_local.LOG_FILE).read_text()
    assert "{length_bucket=" in log  # the slices are in the full log


def test_a_candidate_that_loses_to_the_baseline_is_not_pushed(weak_run):
    output_dir, executions, _ = weak_run
    assert set(executions) == COMPONENTS
    assert all(e.state == "COMPLETE" for e in executions.values()), [(e.node, e.state) for e in executions.values()]
    assert mlmd.custom(executions["Evaluator"].outputs["blessing"][0], "blessed") == 0
    results = evaluation_results.read_evaluation(executions["Evaluator"].outputs["evaluation"][0].uri, False)
    challenger = evaluation_results.challenger_of(text_gate.eval_config(load_config("text")))
    why = evaluation_results.verdict(False, results["failures"], False, results["metrics"], challenger)
    assert "stopped by the bag-of-n-grams baseline" in why
    assert pushed_versions(output_dir) == []
    scores = json.loads(mlmd.custom(executions["Scorer"].outputs["scores"][0], "scores"))
    for split in ("eval", "test"):
        for classifier in ("model", "baseline"):
            assert set(scores[split][classifier]) == {"accuracy", "macro_f1", "auc"}
            assert all(0.0 <= v <= 1.0 for v in scores[split][classifier].values())
    # TFMA and the Scorer read the same eval examples: the same baseline accuracy.
    assert scores["eval"]["baseline"]["accuracy"] == pytest.approx(
        results["metrics"]["candidate"]["baseline_accuracy"], abs=1e-6
    )


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


@pytest.mark.parametrize("content, overrides, expected", [(c, o, e) for _, c, o, e in bad_inputs.TEXT],
                         ids=[name for name, *_ in bad_inputs.TEXT])  # fmt: skip
def test_bad_input_stops_before_training_and_leaves_the_deployed_model(
    weak_run, deployed, tmp_path, capsys, content, overrides, expected
):
    output_dir, _, _ = weak_run
    serving, before = deployed
    csv = tmp_path / "bad.csv"
    csv.write_bytes(content)
    assert run(output_dir, data=str(csv), overrides=overrides) == 1
    err = capsys.readouterr().err
    for words in expected:
        assert words in err, err[-3000:]
    config = load_config("text", output_dir=str(output_dir))
    store = mlmd.open_store(config.metadata_path)
    ran = {e.node for e in mlmd.run_executions(store, mlmd.runs(store)[-1]) if e.state != "FAILED"}
    assert not ran & {"Transform", "Tuner", "Trainer", "Evaluator", "Pusher"}
    assert bad_inputs.snapshot(serving) == before


TEXTS = ["A warm, funny and moving film.", "Tedious, loud and far too long.", ""]


def test_serving_answers_both_formats_as_the_model_does(deployed):
    serving, _ = deployed
    records = [examples_io.to_tf_example({features.TEXT_KEY: t}).SerializeToString() for t in TEXTS]
    serving_checks.check_predict_formats("text", serving, records, {features.TEXT_KEY: TEXTS})


def test_serving_rejects_malformed_requests_and_stays_up(deployed):
    serving, _ = deployed
    serving_checks.check_malformed_requests("text", serving, {features.TEXT_KEY: TEXTS})
