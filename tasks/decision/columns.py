"""The columns of a log of steps, as offline-RL logs are usually kept: `episode, step,
state_0..state_{n-1}, action, reward` (`action_0..` for a continuous action of several dimensions).
Read by the source and written by the default data's logger, which therefore import this, not each other."""
import re

EPISODE_COLUMN = "episode"
STEP_COLUMN = "step"
REWARD_COLUMN = "reward"
ACTION_COLUMN = "action"  # one action value (discrete, or a one-dimensional continuous action)
STATE_COLUMN = re.compile(r"^state_(\d+)$")
ACTION_VECTOR_COLUMN = re.compile(r"^action_(\d+)$")  # a continuous action with several dimensions
