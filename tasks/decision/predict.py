"""Play one episode with the decision model the Pusher deployed last (`pipeline.predict --task decision`).

    python -m pipeline.predict --task decision [--target 500] [--seed 7]

The model acts in its environment (`decision.env_id`, from the SavedModel's own record),
asked for `--target` (default: the highest return it was judged at). It prints each step
count and the return, with the return as the last line, and writes a per-step plot
(state, action, reward and return-to-go) to OUTPUT_DIR/decision/predict/episode_<seed>.png.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np

from data.config import PipelineConfig
from serving.serving_model import latest_model_dir
from tasks.decision import rollout
from tasks.decision.rollout_evaluator import highest_target
from tasks.decision.serving import ServedPolicy

DEFAULT_SEED = 0


def plot_episode(played: dict, target: float, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(len(played["rewards"]))
    figure, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    states = np.asarray(played["states"])
    for i in range(states.shape[1]):
        axes[0].plot(steps, states[: len(steps), i], label=f"state_{i}")
    axes[0].set_ylabel("state")
    axes[0].legend(loc="upper right", fontsize=7)
    actions = np.asarray(played["actions"]).reshape(len(steps), -1)
    for i in range(actions.shape[1]):
        axes[1].step(steps, actions[:, i], where="post", label=f"action_{i}")
    axes[1].set_ylabel("action")
    axes[2].plot(steps, np.asarray(played["returns_to_go"])[: len(steps)], label="return-to-go (asked)")
    axes[2].plot(steps, np.cumsum(played["rewards"]), label="return so far")
    axes[2].set_ylabel("return")
    axes[2].set_xlabel("step")
    axes[2].legend(loc="upper left", fontsize=7)
    figure.suptitle(f"one episode asked for {target:g}: return {played['return']:g}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)


def predict_decision(config: PipelineConfig, args: argparse.Namespace) -> None:
    model_dir = latest_model_dir(config.serving_dir)
    policy = ServedPolicy(model_dir)
    info = policy.info
    target = float(args.target) if args.target is not None else highest_target(info)  # what the gate judged
    seed = DEFAULT_SEED if args.seed is None else int(args.seed)
    played = rollout.play_episode(info["env_id"], policy.act, seed, target, info["context_length"], config.decision.max_steps)
    path = config.task_dir / "predict" / f"episode_{seed}.png"
    plot_episode(played, target, path)
    print(f"model: {model_dir}\nenvironment: {info['env_id']} (episode seed {seed}), asked for return {target:g}")
    print(f"steps: {len(played['rewards'])}; per-step plot: {path}")
    print(f"return: {played['return']:g}")
