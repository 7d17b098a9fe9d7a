"""Task configuration dataclasses: one typed object per run.

This module sits at the bottom of the stack (it imports nothing from the project), so
that `data/`, `models/` and `components/` read the configuration without importing
`pipeline/`. It names no task: each task registers its own sections (`config_section`,
in `tasks/<task>/config.py`). `pipeline/config.py` loads a config from
`tasks/<task>/config.yaml` and applies overrides. Module files receive it through TFX's `custom_config` as the plain dict
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
class TunerConfig:
    max_trials: int = 3  # KerasTuner trials (the search budget)
    epochs: int = 2  # epochs per trial
    steps_per_epoch: int = 40  # batches per tuning epoch
    # Trials at once on Vertex: the Tuner's custom job gets this many replicas, KerasTuner's
    # distributed mode (a chief oracle hands trials to every replica; TFX's Vertex Tuner sets it
    # up). 1: one trial at a time. A local run always takes them one at a time (and says so):
    # on two cores, trials in parallel were measured (docs/deploy.md).
    parallel_trials: int = 1


@dataclasses.dataclass
class TrainerConfig:
    epochs: int = 10  # upper bound; early stopping on the eval split ends sooner
    batch_size: int = 64
    patience: int = 3  # epochs without improvement on eval (`keep_best_on`) before stopping
    # What "best" means when the Trainer keeps the best of the start and every epoch on eval:
    # "loss", or a metric the model is compiled with where higher is better ("accuracy"),
    # ties going to the lower loss. A gate that judges accuracy is served by "accuracy".
    keep_best_on: str = "loss"
    # true: after training, measure where the Trainer's time goes (components/train_profile.py)
    # into trainer_speed.json in the Model artifact; `make bench` sets it (bench/trainer_speed.py)
    profile: bool = False
    # batches per call into the compiled train step (Keras `steps_per_execution`): fewer Python
    # round trips per epoch for small models; callbacks then see one batch per call.
    # None: as the task's model was compiled (the vision models: models/image_blocks.py)
    steps_per_execution: int | None = None
    # true: start from the latest blessed model's weights (the pipeline's `base_model`) when every
    # shape and the transform graph's vocabulary are equal; else train from scratch, saying why
    # (components/warm_start.py). Every Trainer saves its weights for this, whatever the setting.
    warm_start: bool = False
    # epochs when the warm start succeeded (None: `epochs`). Warm, the default series reaches the
    # cold model's best eval loss in 2.0 +- 2.0 epochs against 9.7 +- 0.6 (make bench, warm_start).
    warm_start_epochs: int | None = None
    # Trainer processes training one model together (tf.distribute.MultiWorkerMirroredStrategy;
    # components/distribution.py). The Vertex profile asks its custom job for this many replicas
    # (a chief and workers - 1) and Vertex sets TF_CONFIG; `batch_size` stays the global batch.
    # 1: one process, as always. Locally TF_CONFIG decides, not this key.
    workers: int = 1


@dataclasses.dataclass
class SpansConfig:
    """Which spans a run reads when DATA is a span pattern (data/spans.py); ignored otherwise."""

    window: int | None = None  # the last N spans (a rolling window); 1: the latest span alone; None: every span
    until: str | int | None = None  # only spans up to this one: a span number, or a date (YYYY-MM-DD) for date patterns
    # How a series is split when its data are spans: "fractions" (series.split_fractions or
    # split_dates over the joined spans) or "spans" (train on the older spans, eval on the next
    # `eval_spans`, test on the newest `test_spans`). The other tasks split rows as they always do.
    split: str = "fractions"
    eval_spans: int = 1
    test_spans: int = 1

    def validate(self) -> None:
        if self.window is not None and self.window < 1:
            raise ValueError(f"spans.window is {self.window}: the number of newest spans to read, at least 1 (or null: all)")
        if self.split not in ("fractions", "spans"):
            raise ValueError(f"spans.split is {self.split!r}: 'fractions' or 'spans'")
        if min(self.eval_spans, self.test_spans) < 1:
            raise ValueError("spans.eval_spans and spans.test_spans must be at least 1")


@dataclasses.dataclass(frozen=True)
class Section:
    """A config section a task owns (`series:` for time series), and its dataclass."""

    cls: type
    task: str


# Section name -> its dataclass and owner: each task registers its own (tasks/<task>/config.py),
# so that this module, at the bottom of the stack, names no task.
SECTIONS: dict[str, Section] = {}


def config_section(name: str, task: str):
    """Class decorator: a task's YAML section `name:` is read into this dataclass, whose
    `validate()` (if any) runs when a config is loaded."""

    def register(cls: type) -> type:
        SECTIONS[name] = Section(cls, task)
        return cls

    return register


SHARED_SECTIONS = {"tuner": TunerConfig, "trainer": TrainerConfig, "spans": SpansConfig}


def check_known_keys(name: str, keys, known) -> None:
    """Raises naming the keys of section `name` (`trainer`, `model`, ...) that are not in `known`:
    a misspelt key is an error, never silently left at its default."""
    unknown = set(keys) - set(known)
    if unknown:
        raise ValueError(f"unknown keys in '{name}': {sorted(unknown)} (known: {sorted(known)})")


def _typed(name: str, cls: type, value: Any):
    if isinstance(value, cls):
        return value
    check_known_keys(name, value or {}, [f.name for f in dataclasses.fields(cls)])
    return cls(**(value or {}))


@dataclasses.dataclass
class PipelineConfig:
    """Everything one pipeline run needs. A task's own settings live in its sections (`series`,
    `text`, ...), registered by the task (`config_section`) and read as attributes: `config.series`."""

    task: str = ""  # the registered task (tasks/__init__.py) this config is for
    # the user's CSV (or image or audio folder), or a span pattern of them (data/spans.py); None: the packaged default
    data: str | None = None
    schema: str | None = None  # curated schema.pbtxt (relative to the repository root)
    output_dir: str = "output"
    model: dict[str, Any] = dataclasses.field(default_factory=dict)  # fixed model settings: the keys the task's module.py declares (MODEL_KEYS; tasks/model_settings.py checks them before a run)
    tuner: TunerConfig = dataclasses.field(default_factory=TunerConfig)
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)
    spans: SpansConfig = dataclasses.field(default_factory=SpansConfig)  # when `data` is a span pattern
    evaluation: dict[str, Any] = dataclasses.field(default_factory=dict)  # gate thresholds and challenger settings
    beam: dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 42
    sections: dict[str, Any] = dataclasses.field(default_factory=dict)  # the task's sections, typed

    def __post_init__(self) -> None:
        for name, section in SECTIONS.items():  # the task's own sections always exist (defaults)
            if section.task == self.task and name not in self.sections:
                self.sections[name] = section.cls()

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        if name in SECTIONS:  # another task's section: its defaults, read only (not added to to_dict)
            return SECTIONS[name].cls()
        raise AttributeError(f"config has no setting or section '{name}' (sections: {sorted(sections)})")

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
        """The config as its YAML reads: sections at the top level."""
        raw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "sections"}
        raw.update(self.sections)
        return {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in raw.items()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PipelineConfig:
        raw = {k: v for k, v in raw.items() if not k.startswith(FOREIGN_KEY_PREFIXES)}
        fields = {f.name for f in dataclasses.fields(cls)} - {"sections"}
        unknown = set(raw) - fields - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)} (task sections known: {sorted(SECTIONS)})")
        for key, section_cls in SHARED_SECTIONS.items():
            if key in raw:
                raw[key] = _typed(key, section_cls, raw[key])
        sections = {name: _typed(name, SECTIONS[name].cls, raw.pop(name)) for name in list(raw) if name in SECTIONS}
        config = cls(**raw, sections=sections)
        for section in [config.spans, *config.sections.values()]:
            if hasattr(section, "validate"):
                section.validate()
        return config
