"""RolloutEvaluator: the decision task's gate, by acting in the environment.

An offline metric cannot say whether a policy is worth deploying; the return it earns can.
The candidate's SavedModel is rolled out in `decision.env_id`, conditioned on target
returns (the data's best and the environment's maximum, and a few below for the report's
curve), over `decision.rollout_episodes` seeded episodes each. Its challengers act on the
same seeds: plain behaviour cloning and filtered behaviour cloning (%BC), both inside the
same SavedModel (tasks/decision/cloning.py), and the deployed model when there is one.
Which %BC variant (top 10 % or 25 % of episodes) is the challenger is chosen by its return
on other seeds, which the gate never sees, so that choosing it does not inflate its number.

Every comparison is paired by seed: gain = the candidate's return - the other's on the same
seed (for the data, its mean return), with a 95 % interval (components/paired_evidence.py).
The candidate is blessed only if it is *better* than the data's mean (superiority), and no
worse than each cloning challenger and the deployed model by more than a margin
(non-inferiority: `evaluation.margin`, `evaluation.deployed_margin`, fractions of
that challenger's mean return; `evaluation.beat_strong` also asks for *better* than both
clonings; tasks/decision/config.py `DecisionGate`). As many episodes again, from other
seeds, give test returns, which choose nothing.

Its outputs are TFX's: a ModelBlessing the Pusher and the LatestBlessedModel resolver
read, and a Scores artifact (`decision_scores` in `make inspect JSON=1`: its `gate`, each
comparison's verdict with its interval, and `transformer_gain`).
"""

import dataclasses
import json
import os

import numpy as np
from tfx.components.evaluator import constants
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components import paired_evidence
from components.evaluator import BASELINE_SKIPPED
from components.scoring import Scores, record
from data.config import PipelineConfig
from data.notices import notices, progress
from tasks.decision import (
    config as _sections,  # noqa: F401  (registers `decision:`: this runs in its own process)
)
from tasks.decision import rollout
from tasks.decision.config import DecisionGate
from tasks.decision.serving import BEHAVIOUR_CLONING, FILTERED_PREFIX, ServedPolicy

CURVE_POINTS = 4  # targets below the highest one, for the achieved-vs-target curve
SELECTION_SEED_OFFSET = 250_000  # %BC's variant is chosen on episodes this far after the gate's
TEST_SEED_OFFSET = 500_000  # test episodes start this far after the gate's: other starts, chosen by nothing
DATA_MEAN = "data_mean_return"  # the gate's names of its comparisons (`gate` in the scores)
FILTERED = "filtered_behaviour_cloning"
DEPLOYED = "deployed"
VERDICT_WORDS = {paired_evidence.BETTER: "better", paired_evidence.NO_DIFFERENCE: "no significant difference",
                 paired_evidence.WORSE: "worse"}  # fmt: skip


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


def split_by_group(played: np.ndarray, groups: list[list[int]]) -> list[np.ndarray]:
    """(n,) returns of one lockstep rollout over the groups' seeds end to end -> one array per group."""
    return np.split(played, np.cumsum([len(seeds) for seeds in groups])[:-1])


def acted_returns(policy: ServedPolicy, asked: list[tuple[float, list[int]]], max_steps: int | None) -> list[np.ndarray]:
    """(n,) returns of the Decision Transformer for each (target, seeds) of `asked`, one per
    seed. Every episode is played in one lockstep rollout: one model call per step for all of
    them, rather than one rollout (and up to 500 calls) per target."""
    info = policy.info
    targets_of = [target for target, seeds in asked for _ in seeds]
    played = rollout.rollout(info["env_id"], policy.act, [s for _, seeds in asked for s in seeds], targets_of,
                             info["context_length"], max_steps)  # fmt: skip
    found = split_by_group(played, [seeds for _, seeds in asked])
    for (target, seeds), returns in zip(asked, found, strict=True):
        progress().info(f"RolloutEvaluator: {len(seeds)} episodes asking for return {target:g}: mean {np.mean(returns):.1f}")
    return found


def cloned_returns(policy: ServedPolicy, name: str, groups: list[list[int]], max_steps: int | None) -> list[np.ndarray]:
    """(n,) returns of the SavedModel's cloning challenger `name` on each group of seeds, one
    per seed, all played in one lockstep rollout."""
    played = rollout.rollout_markov(policy.info["env_id"], lambda states: policy.clone(states, name),
                                    [s for seeds in groups for s in seeds], max_steps)  # fmt: skip
    found = split_by_group(played, groups)
    progress().info(f"RolloutEvaluator: {len(played)} episodes of {name}: mean {np.mean(found[0]):.1f} on the first {len(groups[0])}")
    return found


def described(returns: np.ndarray, **extra) -> dict:
    """{"mean_return", "std_return", "episodes", "returns" (per seed, in seed order), **extra}."""
    return {**extra, **rollout.summary(returns), "returns": [float(r) for r in returns]}


def filtered_variants(candidate: ServedPolicy) -> list[str]:
    """The %BC signatures the candidate holds. Fails closed: a gate without its challengers
    must not bless, so a SavedModel without plain or filtered cloning is an error."""
    names = candidate.clones()
    filtered = [name for name in names if name.startswith(FILTERED_PREFIX)]
    if BEHAVIOUR_CLONING not in names or not filtered:
        raise ValueError(
            f"the candidate's SavedModel holds the cloning challengers {names}; the gate needs '{BEHAVIOUR_CLONING}' "
            f"and at least one '{FILTERED_PREFIX}*' (tasks/decision/cloning.py): it cannot judge the candidate without them"
        )
    return filtered


def chosen_filtered(candidate: ServedPolicy, selection: list[int], groups: list[list[int]],
                    max_steps: int | None) -> tuple[str, dict, list[np.ndarray]]:  # fmt: skip
    """(the %BC variant of highest mean return on `selection`, every variant's mean there, the
    chosen variant's returns on each of `groups`); ties: the first by name. Each variant plays
    the selection and every group in one rollout; the unchosen variants' returns on `groups`
    are dropped unseen, so the choice rests on `selection` alone."""
    played = {name: cloned_returns(candidate, name, [selection, *groups], max_steps) for name in filtered_variants(candidate)}
    means = {name: float(np.mean(returns[0])) for name, returns in played.items()}
    chosen = max(means, key=means.get)
    return chosen, means, played[chosen][1:]


def interval_words(evidence: paired_evidence.Evidence) -> str:
    return f"{evidence.diff:+.1f} per episode (95 % interval {evidence.ci_low:+.1f} to {evidence.ci_high:+.1f})"


def compared(name: str, label: str, evidence: paired_evidence.Evidence, mean: float, margin: float | None) -> dict:
    """One comparison of the gate: its evidence, its rule, whether it passes, and a sentence.
    `margin` None: superiority (must be better); else non-inferiority by `margin` returns."""
    passed = bool(evidence.superior() if margin is None else evidence.non_inferior(margin))  # not numpy's bool: JSON
    rule = "must be better" if margin is None else f"must not be worse by more than {margin:.1f}"
    sentence = (f"{label} ({mean:.1f}): {VERDICT_WORDS[evidence.verdict]}, {interval_words(evidence)}; "
                f"{rule}: {'passes' if passed else 'fails'}")  # fmt: skip
    rule_name = "superiority" if margin is None else "non_inferiority"
    return {"name": name, "evidence": evidence, "passed": passed, "sentence": sentence, "rule": rule_name,
            "margin": None if margin is None else float(margin), "challenger_mean_return": mean}  # fmt: skip


def gate_comparisons(gate_rule: DecisionGate, model: np.ndarray, data_mean: float, challengers: dict) -> list[dict]:
    """The gate's comparisons of the candidate's per-seed returns `model` (n,): with the data's
    mean, then each of `challengers` ({name: (label, (n,) returns on the same seeds)})."""
    found = [compared(DATA_MEAN, "against the data's mean return", paired_evidence.interval(model - data_mean), data_mean, None)]
    for name, (label, returns) in challengers.items():
        mean = float(np.mean(returns))
        fraction = gate_rule.deployed_margin if name == DEPLOYED else gate_rule.margin
        evidence = paired_evidence.interval(model - returns)
        found.append(compared(name, label, evidence, mean, fraction * abs(mean)))
        if name != DEPLOYED and gate_rule.beat_strong:
            found.append(compared(name, label, evidence, mean, None))
    return found


def transformer_gain(evidence: paired_evidence.Evidence, kept_epoch: int | None) -> dict:
    """The Decision Transformer's gain over plain behaviour cloning, its nearest simple start,
    and the epoch KeepBest kept (0: its untrained start), with one line in words."""
    if evidence.superior():
        words = f"the Decision Transformer earned more than plain behaviour cloning: {interval_words(evidence)}"
    else:
        words = (f"the Decision Transformer did not earn significantly more than plain behaviour cloning "
                 f"({interval_words(evidence)}): conditioning on a return added nothing measurable on these seeds")  # fmt: skip
    if kept_epoch == 0:
        words += "; KeepBest kept epoch 0, the untrained start"
    return {**evidence.as_dict(), "kept_epoch": kept_epoch, "words": words}


def judge(config: PipelineConfig, candidate: ServedPolicy, deployed: ServedPolicy | None, data: dict) -> dict:
    """Every rollout and the gate's decision, as plain JSON-able data."""
    gate_rule = DecisionGate.from_evaluation(config.evaluation)
    decision, steps = config.decision, config.decision.max_steps
    seeds = [decision.rollout_seed + i for i in range(decision.rollout_episodes)]
    test_seeds = [seed + TEST_SEED_OFFSET for seed in seeds]  # reported, never gated on
    selection_seeds = [s + SELECTION_SEED_OFFSET for s in seeds]
    filtered_name, selection, (filtered, filtered_test) = chosen_filtered(candidate, selection_seeds, [seeds, test_seeds], steps)
    asked = targets(candidate.info)
    highest = asked[-1]
    *at_targets, model_test = acted_returns(candidate, [(t, seeds) for t in asked] + [(highest, test_seeds)], steps)
    by_target = dict(zip(asked, at_targets, strict=True))
    curve = [{"target_return": t, **rollout.summary(r)} for t, r in by_target.items()]
    model = by_target[highest]  # (n,) the candidate is judged at the highest target
    clone, clone_test = cloned_returns(candidate, BEHAVIOUR_CLONING, [seeds, test_seeds], steps)
    challengers = {
        BEHAVIOUR_CLONING: ("against behaviour cloning", clone),
        FILTERED: (f"against filtered behaviour cloning ({filtered_name[len(FILTERED_PREFIX):]} % of episodes)", filtered),
    }
    if deployed is not None:
        challengers[DEPLOYED] = ("against the deployed model", acted_returns(deployed, [(highest, seeds)], steps)[0])
    comparisons = gate_comparisons(gate_rule, model, data["mean_return"], challengers)
    cloning = candidate.info.get("cloning", {})
    scores = {
        "model": described(model, target_return=highest),
        "behaviour_cloning": described(clone, kept_epoch=cloning.get(BEHAVIOUR_CLONING, {}).get("kept_epoch")),
        FILTERED: described(filtered, variant=filtered_name, selection_means=selection,
                            kept_epoch=cloning.get(filtered_name, {}).get("kept_epoch")),  # fmt: skip
        "data": data,
        "curve": curve,
        "seeds": [seeds[0], seeds[-1]],
        "selection_seeds": [selection_seeds[0], selection_seeds[-1]],
        "cloning": cloning,
        "rule": dataclasses.asdict(gate_rule),
    }
    if deployed is not None:
        scores[DEPLOYED] = described(challengers[DEPLOYED][1], target_return=highest)
    scores["gate"] = {}
    for c in comparisons:  # one entry per challenger; with beat_strong, its superiority rule is added
        entry = scores["gate"].setdefault(c["name"], {**c["evidence"].as_dict(), "challenger_mean_return": c["challenger_mean_return"], "rules": []})
        entry["rules"].append({"rule": c["rule"], "margin": c["margin"], "passed": c["passed"]})
        entry["passed"] = all(r["passed"] for r in entry["rules"])
    over_cloning = next(c["evidence"] for c in comparisons if c["name"] == BEHAVIOUR_CLONING)
    scores["transformer_gain"] = transformer_gain(over_cloning, candidate.info.get("kept_epoch"))
    scores["verdicts"] = [c["sentence"] for c in comparisons]
    scores["reasons"] = [c["sentence"] for c in comparisons if not c["passed"]]
    scores["blessed"] = not scores["reasons"]
    scores["test"] = {
        "model": rollout.summary(model_test),
        "behaviour_cloning": rollout.summary(clone_test),
        FILTERED: rollout.summary(filtered_test),
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
    print(
        f"RolloutEvaluator: model {result['model']['mean_return']:.1f} ± {result['model']['std_return']:.1f} "
        f"(target {result['model']['target_return']:g}), behaviour cloning {result['behaviour_cloning']['mean_return']:.1f}, "
        f"filtered behaviour cloning {result[FILTERED]['mean_return']:.1f} ({result[FILTERED]['variant']}), "
        f"data {result['data']['mean_return']:.1f}: {'blessed' if blessed else 'NOT blessed'}"
    )
    for line in [*result["verdicts"], result["transformer_gain"]["words"]]:
        print(f"  {line}")


def evaluator(config, examples, model, baseline_model, task_config: str, fingerprint: str):
    """The decision task's gate node (its TaskSpec's `evaluator`); `fingerprint`: this module's code, the cache key.
    The gate's `evaluation:` keys are checked here, as the pipeline is built, before anything runs."""
    DecisionGate.from_evaluation(config.evaluation)
    return RolloutEvaluator(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        task_config=task_config,
        scores_key="decision_scores",
        source_fingerprint=fingerprint,  # this module's code and its imports (rollouts, serving)
    ).with_id("Evaluator")
