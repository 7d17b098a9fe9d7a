"""End-to-end decision pipeline on logged CartPole episodes (LocalDagRunner, minutes): `pytest -m e2e`.

A tiny budget: the run must complete, act in the environment and record what it earned,
whether or not this small model is blessed.
"""
import base64
import json

import httpx
import numpy as np
import pandas as pd
import pytest

from pipeline import inspect_mlmd, mlmd
from pipeline.config import load_config
from tasks.decision import features, rollout
from tasks.decision.serving import ServedPolicy, context_example
from tasks.decision.trajectory_log import log_trajectories
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task

pytestmark = pytest.mark.e2e

EPISODES = 60
TINY = [
    f"decision.episodes={EPISODES}",
    "decision.rollout_episodes=3",
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


def test_the_run_acts_and_records_rollout_scores(finished_run, capsys):
    _, config = finished_run
    report = inspect_mlmd.collect(config.metadata_path)
    scores = report["decision_scores"]
    assert {"model", "behaviour_cloning", "data", "curve"} <= set(scores)
    assert scores["model"]["episodes"] == 3 and scores["behaviour_cloning"]["episodes"] == 3
    assert 8 <= scores["model"]["mean_return"] <= 500  # CartPole: at least the shortest episode, at most the limit
    assert scores["data"]["episodes"] == EPISODES and scores["data"]["mean_return"] < 250
    assert [p["target_return"] for p in scores["curve"]][-1] == 500.0  # the environment's maximum is asked for
    blessed = report["evaluation"]["blessed"]
    assert blessed == (not scores["reasons"])
    assert blessed == (scores["model"]["mean_return"] > max(scores["data"]["mean_return"], scores["behaviour_cloning"]["mean_return"]))
    assert len(report["pushed_models"]) == (1 if blessed else 0)
    assert inspect_mlmd.main(["--task", "decision", "--output-dir", config.output_dir, "--json"]) == 0
    text = capsys.readouterr().out
    assert json.loads(text[text.index("{"):])["decision_scores"]["model"]["mean_return"] == scores["model"]["mean_return"]


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
