"""The decision config: its `decision:` section (a dataclass read by `data.config.PipelineConfig`)
and the keys of `evaluation:` its gate reads (`DecisionGate`)."""
from __future__ import annotations

import dataclasses

from data.config import config_section


@config_section("decision", task="decision")
@dataclasses.dataclass
class DecisionConfig:
    """How logged trajectories become episodes, and how a policy is judged by acting (decision task)."""

    env_id: str = "CartPole-v1"  # the gymnasium environment the data was logged in and the policy acts in
    episodes: int = 300  # episodes logged for the default data (tasks/decision/trajectory_log.py)
    logging_seed: int = 0  # seeds the default data's behaviour policies and episode starts
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])  # by episode
    return_scale: float = 500.0  # returns-to-go are divided by it (about the best return) before the model
    max_return: float | None = 500.0  # the environment's best return (CartPole: 500 steps); None: unknown
    # Seeded episodes per target return, for the model and each challenger; the gate's paired
    # intervals need at least 2 (measured in tasks/decision/README.md, "How many episodes").
    rollout_episodes: int = 30
    rollout_seed: int = 1_000_000  # first episode seed of the rollouts (the logged data starts at 0)
    max_steps: int | None = None  # steps per rollout; None: the environment's own limit

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6 or min(self.split_fractions) <= 0:
            raise ValueError(
                f"decision.split_fractions {self.split_fractions} must be three positive fractions "
                "(train, eval, test) of the episodes, summing to 1"
            )
        if self.return_scale <= 0 or self.rollout_episodes < 2 or self.episodes < 3:
            raise ValueError(
                "decision: need return_scale > 0, rollout_episodes >= 2 (a paired interval needs two episodes) "
                "and episodes >= 3"
            )


# `evaluation:` keys the decision gate no longer reads -> what replaced them.
REPLACED_GATE_KEYS = {
    "min_return_improvement": "evaluation.margin (non-inferiority) and evaluation.beat_strong (superiority)",
    "max_return_drop": "evaluation.deployed_margin (a fraction of the deployed model's mean return)",
}


@dataclasses.dataclass(frozen=True)
class DecisionGate:
    """The decision gate's `evaluation:` keys (tasks/decision/rollout_evaluator.py).

    The candidate must earn more than the data's mean return (superiority: the paired
    interval lies above 0); it must not earn less than behaviour cloning, filtered behaviour
    cloning or the deployed model by more than a margin (non-inferiority: the interval
    excludes that loss). Margins are fractions of |that challenger's mean return| on the
    same seeds, so that one setting fits CartPole's 0..500 and Pendulum's -1000..0."""

    margin: float = 0.05  # non-inferiority margin against (filtered) behaviour cloning
    deployed_margin: float = 0.05  # non-inferiority margin against the deployed model
    beat_strong: bool = False  # True: the candidate must be *better* than both clonings (README: why not)

    @classmethod
    def from_evaluation(cls, evaluation: dict) -> DecisionGate:
        """The gate's keys of `evaluation:`; a key it no longer reads is an error naming its replacement."""
        replaced = [f"evaluation.{k} was replaced by {REPLACED_GATE_KEYS[k]}" for k in evaluation if k in REPLACED_GATE_KEYS]
        if replaced:
            raise ValueError("decision gate: " + "; ".join(replaced))
        names = {f.name for f in dataclasses.fields(cls)}
        gate = cls(**{k: v for k, v in evaluation.items() if k in names})
        for name in ("margin", "deployed_margin"):
            value = getattr(gate, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ValueError(f"evaluation.{name} ({value!r}) must be a fraction of a mean return in [0, 1)")
        if not isinstance(gate.beat_strong, bool):
            raise ValueError(f"evaluation.beat_strong ({gate.beat_strong!r}) must be true or false")
        return gate
