"""End-to-end decision pipeline on logged CartPole episodes (LocalDagRunner, minutes): `pytest -m e2e`.

A tiny budget: the run must complete, act in the environment, earn more than the data
beyond noise, and record each paired verdict of the gate; whether this small model is
blessed depends on the clonings, and the blessing must follow the gate's rule either way.
"""
import base64
import json
import os

import httpx
import numpy as np
import pandas as pd
import pytest
from tfx.components.evaluator.constants import BLESSED_FILE_NAME, NOT_BLESSED_FILE_NAME

from components.scoring import SCORES_FILE
from pipeline import inspect_mlmd, mlmd
from pipeline.config import load_config
from tasks.decision import features, rollout
from tasks.decision.serving import ServedPolicy, context_example
from tasks.decision.trajectory_log import log_trajectories
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task

pytestmark = pytest.mark.e2e

EPISODES = 60
ROLLOUT_EPISODES = 5  # the fewest for an interval that can tell 500 from the data's ~190 (t with 4 df)
TINY = [
    f"decision.episodes={EPISODES}",
    f"decision.rollout_episodes={ROLLOUT_EPISODES}",
    "model.context_length=5",
    "model.model_dim=32",
    "model.num_layers=1",
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=5",
    "trainer.epochs=1",
    "beam.direct_num_workers=1",
]


def run(output_dir, csv=None, overrides=()):
    return run_task("decision", output_dir, *TINY, *overrides, data=csv)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("decision")
    assert run(root / "out") == 0  # the default data, logged on first use
    config = load_config("decision", output_dir=str(root / "out"), overrides=TINY)
    return root, config


def evaluator_outputs(config) -> tuple[dict, bool]:
    """(the scores file, blessed) as the RolloutEvaluator wrote them, read from its artifacts'
    files, not through `inspect_mlmd.collect`."""
    store = mlmd.open_store(config.metadata_path)
    evaluator = next(e for e in mlmd.run_executions(store, mlmd.runs(store)[0]) if e.node == "Evaluator")
    with open(os.path.join(evaluator.outputs["scores"][0].uri, SCORES_FILE)) as handle:
        written = json.load(handle)
    files = set(os.listdir(evaluator.outputs["blessing"][0].uri))
    assert len(files & {BLESSED_FILE_NAME, NOT_BLESSED_FILE_NAME}) == 1, files
    return written, BLESSED_FILE_NAME in files


def test_the_gate_compares_by_seed_and_blesses_by_its_rule(finished_run, capsys):
    _, config = finished_run
    report = inspect_mlmd.collect(config.metadata_path, run_selector="0")  # the first run (the gap run stops before)
    scores = report["decision_scores"]
    written, blessed = evaluator_outputs(config)
    assert scores == written  # what inspect shows is what the evaluator wrote
    assert report["evaluation"]["blessed"] == blessed == scores["blessed"]
    model, clone, filtered = scores["model"], scores["behaviour_cloning"], scores["filtered_behaviour_cloning"]
    for acted in (model, clone, filtered):  # every policy acted on the same seeds, one return each
        assert len(acted["returns"]) == ROLLOUT_EPISODES and all(0 < r <= 500 for r in acted["returns"])
        assert abs(acted["mean_return"] - np.mean(acted["returns"])) < 1e-9
    assert filtered["variant"] in filtered["selection_means"] and set(filtered["selection_means"]) == {
        "filtered_behaviour_cloning_10", "filtered_behaviour_cloning_25"}
    assert scores["data"]["episodes"] == EPISODES and scores["data"]["mean_return"] < 250
    assert [p["target_return"] for p in scores["curve"]][-1] == 500.0  # the environment's maximum is asked for
    gate = scores["gate"]
    assert set(gate) == {"data_mean_return", "behaviour_cloning", "filtered_behaviour_cloning"}  # nothing deployed before
    gains = {  # per-seed gains recomputed from the returns: the recorded intervals are around their means
        "data_mean_return": np.asarray(model["returns"]) - scores["data"]["mean_return"],
        "behaviour_cloning": np.asarray(model["returns"]) - clone["returns"],
        "filtered_behaviour_cloning": np.asarray(model["returns"]) - filtered["returns"],
    }
    margin = scores["rule"]["margin"]
    for name, entry in gate.items():
        assert abs(entry["diff"] - gains[name].mean()) < 1e-6, name
        assert entry["ci_low"] <= entry["diff"] <= entry["ci_high"], (name, entry)
        expected = "better" if entry["ci_low"] > 0 else "worse" if entry["ci_high"] < 0 else "no_difference"
        assert entry["verdict"] == expected, (name, entry)
        mean = np.mean(clone["returns"] if name == "behaviour_cloning" else filtered["returns"])
        passes = entry["verdict"] == "better" if name == "data_mean_return" else entry["ci_low"] > -margin * abs(mean)
        assert entry["passed"] == passes, (name, entry)
    assert blessed == all(entry["passed"] for entry in gate.values())  # the blessing follows the rule
    assert gate["data_mean_return"]["verdict"] == "better"  # the candidate earns more than the data, beyond noise
    gain = scores["transformer_gain"]
    same = ("diff", "ci_low", "ci_high")
    assert {k: gain[k] for k in same} == {k: gate["behaviour_cloning"][k] for k in same}  # its gain over its nearest start
    assert gain["kept_epoch"] in (0, 1)  # trainer.epochs=1: the start or the one epoch
    assert len(report["pushed_models"]) == (1 if blessed else 0)
    assert inspect_mlmd.main(["--task", "decision", "--output-dir", config.output_dir, "--run", "0"]) == 0
    text = capsys.readouterr().out
    assert "Gate (paired by seed" in text and "against the data's mean return" in text and "95 % interval" in text


def candidate_dir(config) -> str:
    store = mlmd.open_store(config.metadata_path)
    trainer = next(e for e in mlmd.run_executions(store, mlmd.runs(store)[-1]) if e.node == "Trainer")
    return trainer.outputs["model"][0].uri + "/Format-Serving"


def contexts(policy: ServedPolicy, steps: int = 12) -> list[dict]:
    """The contexts the model is shown while it plays one episode (as rollouts build them)."""
    shown = []

    def keep(context):
        shown.append({k: np.array(v) for k, v in context.items()})
        return policy.act(context)

    rollout.play_episode("CartPole-v1", keep, seed=3, target_return=500.0, context_length=policy.info["context_length"])
    return shown[:steps]


def test_serving_over_rest_equals_the_in_process_action(finished_run, tmp_path):
    _, config = finished_run
    serving_dir = tmp_path / "serving"
    import shutil

    shutil.copytree(candidate_dir(config), serving_dir / "1")  # the candidate, served whether blessed or not
    policy = ServedPolicy(str(serving_dir / "1"))
    with serving_checks.running("decision", str(serving_dir)) as (base, _):
        for context in contexts(policy):
            expected = policy.act(context)  # the in-process action (what the gate's rollouts use)
            body = {
                features.RETURNS_TO_GO_KEY: context[features.RETURNS_TO_GO_KEY].tolist(),
                features.STATES_KEY: context[features.STATES_KEY].tolist(),
                features.ACTIONS_KEY: context[features.ACTIONS_KEY][..., None].astype(float).tolist(),
                features.TIMESTEPS_KEY: context[features.TIMESTEPS_KEY].tolist(),
            }
            answer = httpx.post(f"{base}/v1/models/decision:predict", json={"inputs": body}, timeout=30).json()
            assert answer["outputs"][features.ACTION_KEY] == expected.tolist(), answer  # predict_raw
            rows = [
                {"b64": base64.b64encode(context_example({k: np.asarray(v)[i] for k, v in body.items()}).SerializeToString()).decode()}
                for i in range(len(expected))
            ]  # the same contexts as tf.Examples, to serving_default
            answer = httpx.post(f"{base}/v1/models/decision:predict", json={"instances": rows}, timeout=30).json()
            assert [p[features.ACTION_KEY] for p in answer["predictions"]] == expected.tolist(), answer
    # The context can be longer than K: serving keeps the last K steps.
    longer = {k: np.concatenate([v[:, :1]] * 30 + [v], axis=1) for k, v in contexts(policy)[-1].items()}
    np.testing.assert_array_equal(policy.act(longer), policy.act(contexts(policy)[-1]))


def with_gap(path) -> None:
    frame = pd.read_csv(path)
    victim = frame["episode"].iloc[0]
    drop = frame.index[(frame["episode"] == victim) & (frame["step"] == 5)]
    frame.drop(index=drop).to_csv(path, index=False)


def test_a_trajectory_with_a_gap_stops_the_run_at_the_gate_naming_episode_and_step(finished_run, tmp_path, capsys):
    root, config = finished_run
    csv = tmp_path / "steps.csv"
    log_trajectories("CartPole-v1", EPISODES, 0, str(csv))
    with_gap(csv)
    before = bad_inputs.snapshot(config.serving_dir)
    code = run(root / "out", csv)
    words = ["feature 'trajectory_status'", "episode 0", "step 6 follows step 4"]
    bad_inputs.assert_stopped_at_the_gate(code, capsys.readouterr().err, words, config, before)


def test_the_report_plots_achieved_against_target_return(finished_run):
    from pipeline.report import build_report

    _, config = finished_run
    page = build_report(config, run="0")  # the first run: the gap run after it stopped at the gate
    section = page.split("<h2>Achieved return against target return</h2>", 1)[1].split("</section>", 1)[0]
    assert "Not available" not in section and "data:image/png;base64," in section
