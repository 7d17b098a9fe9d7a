"""The decision task's feature keys, and the shared ones (data/features.py) it reads."""
from data.features import *  # noqa: F403  (the shared keys: every key a task module reads is here)

# -- decision task: the ExampleGen writes one example per logged episode (EPISODE_KEY names it) --
EPISODE_KEY = "episode"  # raw: the episode's id in the user's log
STEPS_KEY = "steps"  # raw: (T,) the logged step numbers; transformed: the timesteps the model embeds
STATES_KEY = "states"  # raw: (T * S,) states, step-major; transformed: standardized with train's statistics
ACTIONS_KEY = "actions"  # raw and transformed: (T * A,) actions, step-major (a discrete action is one value)
REWARDS_KEY = "rewards"  # raw: (T,) rewards
EPISODE_LENGTH_KEY = "episode_length"  # raw: T, checked against the schema (an episode needs two steps)
EPISODE_RETURN_KEY = "episode_return"  # raw: the sum of the rewards (the data's returns, for the gate)
TRAJECTORY_STATUS_KEY = "trajectory_status"  # raw: TRAJECTORY_OK, or the first problem and its step
TRAJECTORY_OK = "ok"
RETURNS_TO_GO_KEY = "returns_to_go"  # transformed: (T,) rewards still to come, / decision.return_scale
# Serving inputs and output of the decision model (the recent context of L <= K steps):
# returns_to_go (B, L) raw, states (B, L, S) raw, actions (B, L) or (B, L, A), timesteps (B, L).
TIMESTEPS_KEY = "timesteps"
ACTION_KEY = "action"  # serving output: (B,) discrete action or (B, A) continuous action
