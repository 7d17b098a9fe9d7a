"""The `decision:` section of a decision config: its dataclass, read by `data.config.PipelineConfig`."""
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
    rollout_episodes: int = 20  # seeded episodes per target return, for the model and each baseline
    rollout_seed: int = 1_000_000  # first episode seed of the rollouts (the logged data starts at 0)
    max_steps: int | None = None  # steps per rollout; None: the environment's own limit

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6 or min(self.split_fractions) <= 0:
            raise ValueError(
                f"decision.split_fractions {self.split_fractions} must be three positive fractions "
                "(train, eval, test) of the episodes, summing to 1"
            )
        if self.return_scale <= 0 or self.rollout_episodes < 1 or self.episodes < 3:
            raise ValueError("decision: need return_scale > 0, rollout_episodes >= 1 and episodes >= 3")
