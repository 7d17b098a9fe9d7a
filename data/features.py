"""Feature keys: the one place where the names of raw and transformed features are made.

Column names come from the user's config, so keys are functions of them rather
than constants. The ExampleGen, `preprocessing_fn`, the model inputs, the serving
signature and the TFMA config all call these.
"""
from __future__ import annotations

TARGET_SUFFIX = "_target"  # raw: the `horizon` future values of a target column
TRANSFORMED_SUFFIX = "_xf"  # transformed (normalized) features
MEAN_SUFFIX = "_mean"  # train-split mean of a column, as a transform output
STD_SUFFIX = "_std"  # train-split standard deviation of a column
FORECAST_KEY = "forecast"  # serving output: (B, horizon, num_targets) in data units


def window_key(column: str) -> str:
    """Raw feature holding the `lookback` past values of `column` (it keeps the user's name)."""
    return column


def target_key(column: str) -> str:
    """Raw feature holding the `horizon` future values of `column` (the label)."""
    return f"{column}{TARGET_SUFFIX}"


def transformed_key(key: str) -> str:
    return f"{key}{TRANSFORMED_SUFFIX}"


def mean_key(column: str) -> str:
    return f"{column}{MEAN_SUFFIX}"


def std_key(column: str) -> str:
    return f"{column}{STD_SUFFIX}"


def forecast_output_key(column: str) -> str:
    """Serving output of one target's forecast, (B, horizon), in data units."""
    return f"{FORECAST_KEY}_{column}"


def challenger_output_key(challenger: str, column: str) -> str:
    """Evaluation-signature output: a challenger's forecast of one target, (B, horizon), in data units."""
    return f"{challenger}_{column}"


# -- text task: the ExampleGen writes these keys whatever the CSV's column names are --
TEXT_KEY = "text"  # raw text (bytes)
LABEL_KEY = "label"  # raw class as the user's string (the label)
TEXT_PASSTHROUGH_KEY = "text_raw"  # transformed: the raw text, unchanged, for the bag-of-n-grams challenger
LENGTH_BUCKET_KEY = "length_bucket"  # raw "short" | "medium" | "long" (word count), for slicing
LENGTH_BUCKETS = ("short", "medium", "long")
TOKEN_VOCABULARY = "tokens"  # name of the Transform's token vocabulary
LABEL_VOCABULARY = "label"  # name of the Transform's label vocabulary
PADDING_ID = 0  # like keras.layers.TextVectorization
OOV_ID = 1
# Serving outputs; TFMA reads `probabilities` and maps string labels through `all_classes`.
PROBABILITIES_KEY = "probabilities"  # (B, C)
ALL_CLASSES_KEY = "all_classes"  # (B, C) class names in probability order
PREDICTED_LABEL_KEY = "label"  # (B,) the most probable class name
BASELINE_PREFIX = "baseline_"  # evaluation signature: the challenger's outputs, e.g. baseline_probabilities
WIDE_PREFIX = "wide_"  # evaluation signature: the outputs of the text model's wide part alone, scored beside it


def baseline_output_key(key: str) -> str:
    """Evaluation-signature output of the text challenger: `baseline_<serving output>`."""
    return f"{BASELINE_PREFIX}{key}"


# -- vision task: the ExampleGen writes these keys for every image --
IMAGE_KEY = "image"  # raw: the encoded file bytes (PNG or JPEG), as a serving client sends them
FILE_KEY = "file"  # raw: the image's path under the data folder, so validation can name it
IMAGE_STATUS_KEY = "image_status"  # raw: IMAGE_OK, or why the file did not decode
IMAGE_OK = "ok"
IMAGE_HEIGHT_KEY = "image_height"  # raw: decoded size and channel count, checked against the schema
IMAGE_WIDTH_KEY = "image_width"
IMAGE_CHANNELS_KEY = "image_channels"


# -- speech task: the ExampleGen writes these keys for every clip (FILE_KEY names it) --
AUDIO_KEY = "audio"  # raw: the WAV file's bytes, as a serving client sends them
TRANSCRIPT_KEY = "transcript"  # raw: what is said, lower case (the label); the serving output's name too
SPEAKER_KEY = "speaker"  # raw: who speaks ("" when unknown), for speaker-disjoint splits and slicing
AUDIO_STATUS_KEY = "audio_status"  # raw: AUDIO_OK, or why the WAV did not decode
AUDIO_OK = "ok"
TRANSCRIPT_STATUS_KEY = "transcript_status"  # raw: TRANSCRIPT_OK, or "empty" / the characters outside the alphabet
TRANSCRIPT_OK = "ok"
DURATION_MS_KEY = "duration_ms"  # raw: the clip's length in milliseconds, checked against the schema's range
SAMPLE_RATE_KEY = "sample_rate"  # raw: the file's own rate (resampled in Transform)
AUDIO_CHANNELS_KEY = "audio_channels"  # raw: the file's channels (mixed down in Transform)
SPECTROGRAM_KEY = "spectrogram"  # transformed: (frames, mel_bins) standardized log-mel
FRAMES_KEY = "frames"  # transformed: the number of real (unpadded) spectrogram frames
CHARACTERS_KEY = "characters"  # transformed: the transcript as character ids, 1-based, 0-padded (CTC blank = 0)

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
