"""Task configuration dataclasses: one typed object per run.

This module sits at the bottom of the stack (it imports nothing from the project), so
that `data/`, `models/` and `components/` read the configuration without importing
`pipeline/`. `pipeline/config.py` loads it from `tasks/<task>/config.yaml` and applies
overrides. Module files receive it through TFX's `custom_config` as the plain dict
from `PipelineConfig.to_dict()`.
"""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

# custom_config keys that are not settings: the pipeline's cache key of the code a
# component runs (pipeline/fingerprint.py), and TFX's Vertex AI Training extensions' keys.
SOURCE_FINGERPRINT_KEY = "source_fingerprint"
FOREIGN_KEY_PREFIXES = (SOURCE_FINGERPRINT_KEY, "ai_platform_", "remote_trials_")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class SeriesConfig:
    """How a CSV becomes forecasting windows (time-series task)."""

    time_column: str = "time"  # parsed as timestamps; rows must be sorted by it
    input_columns: list[str] = dataclasses.field(default_factory=lambda: ["temperature"])  # model inputs
    target_columns: list[str] = dataclasses.field(default_factory=lambda: ["temperature"])  # forecast; must be inputs too
    lookback: int = 48  # time steps the model sees
    horizon: int = 12  # time steps it forecasts
    stride: int = 3  # steps between consecutive window starts
    season: int = 48  # period of the seasonal-naive baseline, in steps
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.7, 0.15, 0.15])
    split_dates: list[str] | None = None  # [eval_start, test_start(, test_end)]; when set, replaces split_fractions
    split_context: bool = False  # eval/test lookbacks may reach into the rows before the split (targets never do)
    split_column: str | None = None  # a column of train/eval/test per row (in that time order): replaces the above
    frequency: str | None = None  # pandas offset ("1h"); None: the most common time difference

    def validate(self) -> None:
        missing = [c for c in self.target_columns if c not in self.input_columns]
        if missing:
            raise ValueError(
                f"series.target_columns {missing} must also be in series.input_columns "
                f"{self.input_columns}: the model forecasts a series from its own history."
            )
        if min(self.lookback, self.horizon, self.stride, self.season) < 1:
            raise ValueError("series.lookback, horizon, stride and season must all be >= 1")
        if self.season > self.lookback:
            raise ValueError(
                f"series.season ({self.season}) must be <= series.lookback ({self.lookback}): "
                "the seasonal-naive baseline reads the last season of each window."
            )
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"series.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if self.split_dates is not None and (
            len(self.split_dates) not in (2, 3) or sorted(map(str, self.split_dates)) != list(map(str, self.split_dates))
        ):
            raise ValueError(
                f"series.split_dates {self.split_dates} must be [eval_start, test_start] or "
                "[eval_start, test_start, test_end], in time order"
            )


@dataclasses.dataclass
class TextConfig:
    """How a CSV of labelled texts becomes examples and token ids (text task)."""

    text_column: str = "text"  # CSV column holding the raw text
    label_column: str = "label"  # CSV column holding the class (strings or numbers; >= 2 classes)
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.7, 0.15, 0.15])
    stratify: bool = True  # keep each class's share equal across train/eval/test
    split_column: str | None = None  # a CSV column of train/eval/test per row: the data set's own split
    max_examples: int | None = None  # seeded subsample of the CSV (None: every row)
    max_length: int = 48  # tokens per text after padding/truncation
    vocab_size: int = 15000  # top_k tokens kept (ids 0 and 1 are padding and OOV on top)
    frequency_threshold: int = 2  # tokens seen fewer times in train are OOV
    ngrams: int = 1  # 1: words; 2: words and bigrams
    length_buckets: list[int] = dataclasses.field(default_factory=lambda: [12, 24])  # words: short <= a < medium <= b < long

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"text.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if min(self.max_length, self.vocab_size) < 1 or self.ngrams not in (1, 2):
            raise ValueError("text.max_length and text.vocab_size must be >= 1 and text.ngrams 1 or 2")
        if len(self.length_buckets) != 2 or self.length_buckets[0] >= self.length_buckets[1]:
            raise ValueError(f"text.length_buckets {self.length_buckets} must be two increasing word counts")


@dataclasses.dataclass
class VisionConfig:
    """How a folder of labelled images becomes examples and pixels (vision task)."""

    image_size: list[int] = dataclasses.field(default_factory=lambda: [28, 28])  # [height, width] every image has
    channels: int = 1  # 1 grayscale, 3 RGB: every image has this many
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])
    stratify: bool = True  # keep each class's share equal across train/eval/test
    split_folders: bool = False  # DATA/{train,eval,test}/<class>/*: the data set's own split
    max_examples: int | None = None  # seeded subsample (None: every image)
    extensions: list[str] = dataclasses.field(default_factory=lambda: [".png", ".jpg", ".jpeg"])

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"vision.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if len(self.image_size) != 2 or min(self.image_size) < 1:
            raise ValueError(f"vision.image_size {self.image_size} must be [height, width], both >= 1")
        if self.channels not in (1, 3):
            raise ValueError(f"vision.channels ({self.channels}) must be 1 (grayscale) or 3 (RGB)")


@dataclasses.dataclass
class SpeechConfig:
    """How a folder of WAV recordings and their transcripts becomes examples and spectrograms (speech task)."""

    sample_rate: int = 8000  # every clip is resampled to this rate (Hz); stereo is mixed down
    max_seconds: float = 2.0  # longer clips stop the run; shorter ones are padded (and masked)
    min_seconds: float = 0.05  # shorter (or empty) clips stop the run
    alphabet: str = "abcdefghijklmnopqrstuvwxyz' "  # transcript characters (lower case); others stop the run
    transcripts: str = "transcripts.csv"  # CSV of file,transcript[,speaker][,split] in the folder; without
    # it, free-spoken-digit names `{digit}_{speaker}_{index}.wav` give the transcript (the digit's word)
    split_by: str = "dataset"  # "dataset": the data set's own split where it has one, else seeded;
    # "random": seeded; "speaker": test (and eval) speakers never appear in train
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])
    eval_fraction: float = 0.1  # of the non-test clips, when the data set's own split has no eval part
    frame_ms: float = 32.0  # spectrogram window
    step_ms: float = 5.0  # spectrogram hop: 200 frames a second, halved by the model's convolutions
    mel_bins: int = 40
    decoder: str = "greedy"  # "greedy": any string over the alphabet (best symbol per step);
    # "lexicon": the train transcript the model finds likeliest; for a closed vocabulary (commands, digits) only
    max_examples: int | None = None  # seeded subsample (None: every clip)

    @property
    def max_samples(self) -> int:
        return int(round(self.max_seconds * self.sample_rate))

    @property
    def frame_length(self) -> int:  # samples per spectrogram window
        return int(round(self.frame_ms * self.sample_rate / 1000))

    @property
    def frame_step(self) -> int:  # samples between windows
        return int(round(self.step_ms * self.sample_rate / 1000))

    @property
    def fft_length(self) -> int:
        return 1 << (self.frame_length - 1).bit_length()

    @property
    def num_frames(self) -> int:  # spectrogram frames of a max_seconds clip
        return 1 + (self.max_samples - self.frame_length) // self.frame_step

    @property
    def max_characters(self) -> int:
        """Character ids per transcript after padding: one per frame bounds any CTC model's output.
        (How many a model can write is its own: tasks/speech/example_gen.py checks it.)"""
        return self.num_frames

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"speech.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if self.split_by not in ("dataset", "random", "speaker"):
            raise ValueError(f"speech.split_by '{self.split_by}' must be dataset, random or speaker")
        if self.decoder not in ("greedy", "lexicon"):
            raise ValueError(f"speech.decoder '{self.decoder}' must be greedy or lexicon")
        if not 0 < self.min_seconds < self.max_seconds or self.sample_rate < 1000:
            raise ValueError(
                f"speech: need 0 < min_seconds ({self.min_seconds}) < max_seconds ({self.max_seconds}) "
                f"and sample_rate ({self.sample_rate}) >= 1000 Hz"
            )
        if not self.alphabet or len(set(self.alphabet)) != len(self.alphabet) or self.alphabet != self.alphabet.lower():
            raise ValueError(f"speech.alphabet {self.alphabet!r} must be distinct lower-case characters")
        if not 0 < self.eval_fraction < 1 or self.mel_bins < 1 or not 0 < self.step_ms <= self.frame_ms:
            raise ValueError("speech: need 0 < eval_fraction < 1, mel_bins >= 1 and 0 < step_ms <= frame_ms")


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


@dataclasses.dataclass
class TunerConfig:
    max_trials: int = 3  # KerasTuner trials (the search budget)
    epochs: int = 2  # epochs per trial
    steps_per_epoch: int = 40  # batches per tuning epoch


@dataclasses.dataclass
class TrainerConfig:
    epochs: int = 10  # upper bound; early stopping on the eval split ends sooner
    batch_size: int = 64
    patience: int = 3  # epochs without improvement on eval (`keep_best_on`) before stopping
    # What "best" means when the Trainer keeps the best of the start and every epoch on eval:
    # "loss", or a metric the model is compiled with where higher is better ("accuracy"),
    # ties going to the lower loss. A gate that judges accuracy is served by "accuracy".
    keep_best_on: str = "loss"


@dataclasses.dataclass
class PipelineConfig:
    """Everything one pipeline run needs."""

    task: str = "timeseries"
    data: str | None = None  # the user's CSV (or image or audio folder); None: the packaged default
    schema: str | None = None  # curated schema.pbtxt (relative to the repository root)
    output_dir: str = "output"
    series: SeriesConfig = dataclasses.field(default_factory=SeriesConfig)
    text: TextConfig = dataclasses.field(default_factory=TextConfig)  # text task
    vision: VisionConfig = dataclasses.field(default_factory=VisionConfig)  # vision task
    speech: SpeechConfig = dataclasses.field(default_factory=SpeechConfig)  # speech task
    decision: DecisionConfig = dataclasses.field(default_factory=DecisionConfig)  # decision task
    model: dict[str, Any] = dataclasses.field(default_factory=dict)  # fixed model settings
    tuner: TunerConfig = dataclasses.field(default_factory=TunerConfig)
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)
    evaluation: dict[str, Any] = dataclasses.field(default_factory=dict)  # gate thresholds and challenger settings
    beam: dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 42

    # -- derived paths: OUTPUT_DIR/<task>/... -------------------------------------
    @property
    def task_dir(self) -> pathlib.Path:
        return pathlib.Path(self.output_dir).resolve() / self.task

    @property
    def pipeline_name(self) -> str:
        return f"transformers-{self.task}"

    @property
    def pipeline_root(self) -> str:
        return str(self.task_dir / "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return str(self.task_dir / "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        return str(self.task_dir / "serving")

    @property
    def schema_path(self) -> str | None:
        if self.schema is None:
            return None
        path = pathlib.Path(self.schema)
        return str(path if path.is_absolute() else REPO_ROOT / path)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PipelineConfig:
        raw = {k: v for k, v in raw.items() if not k.startswith(FOREIGN_KEY_PREFIXES)}
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        sections = {"series": SeriesConfig, "text": TextConfig, "vision": VisionConfig, "speech": SpeechConfig, "decision": DecisionConfig, "tuner": TunerConfig, "trainer": TrainerConfig}
        for key, section_cls in sections.items():
            if key in raw and isinstance(raw[key], dict):
                names = {f.name for f in dataclasses.fields(section_cls)}
                bad = set(raw[key]) - names
                if bad:
                    raise ValueError(f"unknown keys in '{key}': {sorted(bad)} (known: {sorted(names)})")
                raw[key] = section_cls(**raw[key])
        config = cls(**raw)
        config.series.validate()
        config.text.validate()
        config.vision.validate()
        config.speech.validate()
        config.decision.validate()
        return config
