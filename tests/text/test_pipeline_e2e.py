"""End-to-end text pipeline on a small sample (LocalDagRunner, minutes): `pytest -m e2e`."""
import glob

import pytest
import tensorflow as tf

from pipeline import mlmd, run_local
from pipeline.config import load_config
from pipeline.predict import latest_model_dir
from pipeline.predict_text import classify

pytestmark = pytest.mark.e2e

TINY = [  # a small sample and a one-trial, one-epoch budget
    "text.max_examples=400",
    "text.vocab_size=2000",
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=3",
    "trainer.epochs=1",
    "evaluation.min_accuracy=0.0",  # one epoch on 280 texts: bless anything that runs
]
COMPONENTS = {
    "ExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
    "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher",
}  # fmt: skip


def run(output_dir, data=None):
    argv = ["--task", "text", "--output-dir", str(output_dir)] + (["--data", data] if data else [])
    return run_local.main(argv + [arg for item in TINY for arg in ("--set", item)])


def pushed_versions(output_dir) -> list[str]:
    return glob.glob(str(load_config("text", output_dir=str(output_dir)).task_dir / "serving" / "*"))


@pytest.fixture(scope="module")
def pushed_run(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("text")
    assert run(output_dir) == 0
    return output_dir


def test_every_component_runs_and_a_model_is_pushed(pushed_run):
    config = load_config("text", output_dir=str(pushed_run))
    store = mlmd.open_store(config.metadata_path)
    executions = mlmd.run_executions(store, mlmd.runs(store)[-1])
    assert {e.node for e in executions} == COMPONENTS
    assert all(e.state in ("COMPLETE", "CACHED") for e in executions), [(e.node, e.state) for e in executions]
    assert len(pushed_versions(pushed_run)) == 1


def test_pushed_model_classifies_raw_strings(pushed_run):
    config = load_config("text", output_dir=str(pushed_run))
    serve = tf.saved_model.load(latest_model_dir(config.serving_dir)).signatures["serving_default"]
    results = classify(serve, ["A warm, funny and moving film.", "Tedious, loud and far too long.", ""])
    for label, probabilities in results:
        assert label in ("fresh", "rotten")
        assert set(probabilities) == {"fresh", "rotten"}
        assert abs(sum(probabilities.values()) - 1) < 1e-4


def write_csv(path, rows):
    path.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows))
    return str(path)


GOOD = [(f"review number {i} was {'great' if i % 2 else 'bad'}", "fresh" if i % 2 else "rotten") for i in range(30)]


@pytest.mark.parametrize(
    "rows, feature",
    [
        ([("", y) for _, y in GOOD], "text"),  # an empty text column
        ([*GOOD, ("a meh review", "meh")], "label"),  # a label outside the schema's domain
    ],
    ids=["empty-text", "unknown-label"],
)
def test_bad_data_stops_at_the_gate(tmp_path, capsys, rows, feature):
    csv = write_csv(tmp_path / "bad.csv", rows)
    assert run(tmp_path / "out", data=csv) == 1
    err = capsys.readouterr().err
    assert "DataValidationError" in err and f"feature '{feature}'" in err, err[-2000:]
    assert "nothing was trained or pushed" in err
    assert pushed_versions(tmp_path / "out") == []
    config = load_config("text", output_dir=str(tmp_path / "out"))
    store = mlmd.open_store(config.metadata_path)
    ran = {e.node for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}
    assert not ran & {"Transform", "Tuner", "Trainer", "Evaluator", "Pusher"}
