"""RolloutEvaluator: the decision task's gate, by acting in the environment.

An offline metric cannot say whether a policy is worth deploying; the return it earns can.
The candidate's SavedModel is rolled out in `decision.env_id`, conditioned on target
returns (the data's best and the environment's maximum, and a few below for the report's
curve), over `decision.rollout_episodes` seeded episodes each; the same number of
episodes from other seeds, which choose nothing, give its test return. The behaviour-cloning
baseline inside the same SavedModel, and the deployed model when there is one, act on the
same seeds. The candidate is blessed only if its mean return at the highest target beats
the data's mean return and behaviour cloning's (by `evaluation.min_return_improvement`),
and does not fall below the deployed model's by more than `evaluation.max_return_drop`.

Its outputs are TFX's: a ModelBlessing the Pusher and the LatestBlessedModel resolver
read, and a Scores artifact (`decision_scores` in `make inspect JSON=1`).
"""

import json
import os

import numpy as np
from tfx.components.evaluator import constants
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components.evaluator import BASELINE_SKIPPED
from components.scoring import Scores, record
from data.config import PipelineConfig
from data.notices import notices
from tasks.decision import (
    config as _sections,  # noqa: F401  (registers `decision:`: this runs in its own process)
)
from tasks.decision import rollout
from tasks.decision.serving import ServedPolicy

CURVE_POINTS = 4  # targets below the highest one, for the achieved-vs-target curve
TEST_SEED_OFFSET = 500_000  # test episodes start this far after the gate's: other starts, chosen by nothing


def data_returns(examples) -> dict:
    """The logged episodes' mean and best return over every split (the ExampleGen's record, from tasks/decision/example_gen.py)."""
    recorded = examples.get_string_custom_property("episode_returns")
    if not recorded:  # fail closed: the data's return is the bar the candidate must clear
        raise ValueError(
            f"the Examples artifact {examples.uri} records no 'episode_returns' (the decision ExampleGen writes them): "
            "the data's mean return, which the candidate must beat, is unknown"
        )
    per_split = json.loads(recorded)
    counts = {s: examples.get_int_custom_property(f"episodes_{s}") for s in per_split}
    total = sum(counts.values()) or 1
    return {
        "mean_return": sum(per_split[s]["mean_return"] * counts[s] for s in per_split) / total,
        "max_return": max((v["max_return"] for v in per_split.values()), default=0.0),
        "episodes": sum(counts.values()),
    }


def top_targets(info: dict) -> list[float]:
    """The data's best return and the environment's maximum when it is known (SavedModel info)."""
    return [info["data_best_return"]] + ([info["max_return"]] if info.get("max_return") is not None else [])


def highest_target(info: dict) -> float:
    """The return a model is judged at: the environment's maximum, else the data's best."""
    return max(top_targets(info))


def targets(info: dict) -> list[float]:
    """The data's best and the environment's maximum, then a few lower ones for the curve (ascending)."""
    top = top_targets(info)
    highest = max(top)
    low = 0.0 if highest > 0 else -float(info["return_scale"])  # returns below zero (Pendulum): down to -scale
    curve = list(np.linspace(low, highest, CURVE_POINTS + 1)[1:-1])
    return sorted({round(float(t), 3) for t in [*curve, *top]})


def acted(policy: ServedPolicy, target: float, seeds: list[int], max_steps: int | None) -> dict:
    """The Decision Transformer asked for `target` on `seeds`: {"target_return", "mean_return", "std_return", "episodes"}."""
    info = policy.info
    returns = rollout.rollout(info["env_id"], policy.act, seeds, target, info["context_length"], max_steps)
    return {"target_return": target, **rollout.summary(returns)}


def cloned(policy: ServedPolicy, seeds: list[int], max_steps: int | None) -> dict:
    """The SavedModel's behaviour-cloning baseline on `seeds`."""
    return rollout.summary(rollout.rollout_markov(policy.info["env_id"], policy.clone, seeds, max_steps))


def judge(config: PipelineConfig, candidate: ServedPolicy, deployed: ServedPolicy | None, data: dict) -> dict:
    """Every rollout and the gate's decision, as plain JSON-able data."""
    decision = config.decision
    seeds = [decision.rollout_seed + i for i in range(decision.rollout_episodes)]
    curve = [acted(candidate, target, seeds, decision.max_steps) for target in targets(candidate.info)]
    model = dict(curve[-1])  # the highest target
    highest = model["target_return"]
    clone = cloned(candidate, seeds, decision.max_steps)
    scores = {"model": model, "behaviour_cloning": clone, "data": data, "curve": curve, "seeds": [seeds[0], seeds[-1]]}
    margin = float(config.evaluation.get("min_return_improvement", 0.0))
    reasons = []
    if not model["mean_return"] > data["mean_return"] + margin:
        reasons.append(f"mean return {model['mean_return']:.1f} does not beat the data's {data['mean_return']:.1f}")
    if not model["mean_return"] > clone["mean_return"] + margin:
        reasons.append(f"mean return {model['mean_return']:.1f} does not beat behaviour cloning's {clone['mean_return']:.1f}")
    if deployed is not None:
        scores["deployed"] = acted(deployed, highest, seeds, decision.max_steps)
        drop = float(config.evaluation.get("max_return_drop", 0.0))
        if model["mean_return"] < scores["deployed"]["mean_return"] - drop:
            reasons.append(
                f"mean return {model['mean_return']:.1f} is below the deployed model's {scores['deployed']['mean_return']:.1f}"
                f" by more than {drop}"
            )
    scores["blessed"], scores["reasons"] = not reasons, reasons
    test_seeds = [seed + TEST_SEED_OFFSET for seed in seeds]  # reported, never gated on
    scores["test"] = {
        "model": acted(candidate, highest, test_seeds, decision.max_steps),
        "behaviour_cloning": cloned(candidate, test_seeds, decision.max_steps),
        "seeds": [test_seeds[0], test_seeds[-1]],
    }
    return scores


def deployed_problem(candidate: ServedPolicy, deployed: ServedPolicy) -> str | None:
    """Why the deployed model cannot act in the candidate's environment, or None."""
    keys = ("env_id", "discrete", "state_dim", "action_dim")
    changed = [k for k in keys if candidate.info.get(k) != deployed.info.get(k)]
    return f"it was trained for another environment ({', '.join(changed)} differ)" if changed else None


@component
def RolloutEvaluator(
    examples: InputArtifact[standard_artifacts.Examples],
    model: InputArtifact[standard_artifacts.Model],
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
    scores: OutputArtifact[Scores],
    task_config: Parameter[str],
    scores_key: Parameter[str],
    source_fingerprint: Parameter[str],
    baseline_model: InputArtifact[standard_artifacts.Model] = None,  # optional: none before a first blessing
) -> None:
    """Rolls out the candidate, behaviour cloning and the deployed model; blesses or not."""
    del source_fingerprint  # only part of the cache key (pipeline/fingerprint.py)
    config = PipelineConfig.from_dict(json.loads(task_config))
    candidate = ServedPolicy(path_utils.serving_model_path(model.uri))
    deployed = None
    if baseline_model is not None:
        deployed = ServedPolicy(path_utils.serving_model_path(baseline_model.uri))
        problem = deployed_problem(candidate, deployed)
        if problem:
            message = f"the deployed model ({baseline_model.uri}) was not compared: {problem}"
            notices().warning(f"RolloutEvaluator: {message}")
            blessing.set_string_custom_property(BASELINE_SKIPPED, message)
            deployed = None
    result = judge(config, candidate, deployed, data_returns(examples))
    record(scores, result, scores_key)
    blessed = result["blessed"]
    os.makedirs(blessing.uri, exist_ok=True)
    name = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    open(os.path.join(blessing.uri, name), "w").close()
    blessing.set_int_custom_property(
        constants.ARTIFACT_PROPERTY_BLESSED_KEY, constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE
    )
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    if deployed is not None:
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline_model.uri)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline_model.id)
    verdict = "blessed" if blessed else "not blessed: " + "; ".join(result["reasons"])
    print(
        f"RolloutEvaluator: model {result['model']['mean_return']:.1f} ± {result['model']['std_return']:.1f} "
        f"(target {result['model']['target_return']:g}), behaviour cloning {result['behaviour_cloning']['mean_return']:.1f}, "
        f"data {result['data']['mean_return']:.1f}: {verdict}"
    )


def evaluator(config, examples, model, baseline_model, task_config: str, fingerprint: str):
    """The decision task's gate node (its TaskSpec's `evaluator`); `fingerprint`: this module's code, the cache key."""
    return RolloutEvaluator(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        task_config=task_config,
        scores_key="decision_scores",
        source_fingerprint=fingerprint,  # this module's code and its imports (rollouts, serving)
    ).with_id("Evaluator")
