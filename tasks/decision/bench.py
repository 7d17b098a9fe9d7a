"""Decision: the Decision Transformer against behaviour cloning and the data, by acting.

The decision pipeline runs once per environment, in a fresh OUTPUT_DIR under bench/results/
(`--reuse-runs`: the runs already there): on CartPole-v1 (discrete actions, the default
data) and on Pendulum-v1 (continuous actions: the tanh head), each on data logged by a
seeded mix of behaviour policies. From each run's RolloutEvaluator: the return the Decision
Transformer earns when asked for the environment's maximum, behaviour cloning's and
filtered behaviour cloning's on the same seeded episodes (trained in the same run, on the
same train episodes), the logged data's mean and best, and the gate's paired verdicts. Goal on CartPole: a mean of 490 or more from data averaging
under 250.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from bench import pipeline_stats
from components.scoring import SCORES_PROPERTY
from pipeline import mlmd
from pipeline.config import load_config

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "results")
ENVIRONMENTS = {  # name -> (OUTPUT_DIR under RESULTS_DIR, config overrides)
    "CartPole-v1": ("decision", []),
    "Pendulum-v1": (
        "decision_pendulum",
        ["decision.env_id=Pendulum-v1", "decision.return_scale=1000", "decision.max_return=0"],
    ),
}


def run_pipeline(output_dir: str, overrides: list[str]) -> None:
    sets = [a for item in overrides for a in ("--set", item)]
    subprocess.run([sys.executable, "-m", "pipeline.run_local", "--task", "decision", "--output-dir", output_dir, *sets], check=True)


def row(env_id: str, output_dir: str, overrides: list[str]) -> dict:
    config = load_config("decision", output_dir=output_dir, overrides=overrides)
    _, executions = pipeline_stats.latest_run(config.metadata_path)
    by_node = {e.node: e for e in executions}
    scores = json.loads(mlmd.custom(by_node["Evaluator"].outputs["scores"][0], SCORES_PROPERTY))
    model, clone, data = scores["model"], scores["behaviour_cloning"], scores["data"]
    filtered = scores.get("filtered_behaviour_cloning", {})
    gate = scores.get("gate", {})
    return {
        "environment": env_id,
        "asked for": model["target_return"],
        "episodes": model["episodes"],
        "decision transformer": f"{model['mean_return']:.1f} ± {model['std_return']:.1f}",
        "behaviour cloning": f"{clone['mean_return']:.1f} ± {clone['std_return']:.1f}",
        "filtered cloning": f"{filtered['mean_return']:.1f} ± {filtered['std_return']:.1f}" if filtered else "-",
        "verdicts": ", ".join(f"{name} {v['verdict']} [{v['ci_low']:+.1f}, {v['ci_high']:+.1f}]" for name, v in gate.items()),
        "data mean": round(data["mean_return"], 1),
        "data best": round(data["max_return"], 1),
        "blessed": scores["blessed"],
        "trainer s": round(by_node["Trainer"].seconds, 1),
        "evaluator s": round(by_node["Evaluator"].seconds, 1),
    }


def run(args) -> list[dict]:
    rows = []
    for env_id, (name, overrides) in ENVIRONMENTS.items():
        output_dir = os.path.join(RESULTS_DIR, name)
        if not (args.reuse_runs and os.path.exists(os.path.join(output_dir, "decision", "metadata.sqlite"))):
            shutil.rmtree(output_dir, ignore_errors=True)
            run_pipeline(output_dir, overrides)
        rows.append(row(env_id, output_dir, overrides))
    return rows
