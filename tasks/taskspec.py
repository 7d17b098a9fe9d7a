"""`TaskSpec`: what shared code needs to know of a task, and the only way it learns it.

Each task defines one `SPEC` in `tasks/<task>/task.py`; `tasks/__init__.py` registers it
by one line. The pipeline, `make schema`, predict, the report, inspect and the bench
read a task only through its spec, so that a new task adds a folder, a registry line
and its tests, and edits no shared module. Everything is named by dotted path and
imported when used: looking a task up costs no TensorFlow import, and a task's
predictor or report code loads only for the command that needs it.
"""
from __future__ import annotations

import dataclasses
import importlib
import pathlib
from typing import Any


def load(dotted: str) -> Any:
    """The object at `package.module.name`."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclasses.dataclass(frozen=True)
class Option:
    """A `make predict` option of a task, also read from a make variable of the same name
    (`make predict TASK=text TEXT="..."`), so that the Makefile names no task's options."""

    flag: str  # "--text"
    variable: str  # "TEXT": the make (and environment) variable
    help: str
    type: str = "str"  # "str" | "float" | "int"
    repeat: bool = False  # the flag may be given several times


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """A task, as shared code sees it. Dotted paths are `module.function` unless said otherwise."""

    name: str
    package: str  # "tasks.<task>": module.py (tuner_fn, run_fn) and preprocessing.py (preprocessing_fn)
    sections: tuple[str, ...]  # the config sections it owns (`series`); the first is what Transform reads
    # -- data ----------------------------------------------------------------------------
    resolve_data: str  # (config) -> the local CSV or folder (the packaged default when config.data is None)
    write_examples: str  # (config, source, output_uri) -> components.example_gen.Written
    example_names: tuple[str, ...] = ()  # raw features that name an example when validation fails (file, episode)
    schema_problems: str | None = None  # (config, schema) -> where they disagree, checked before a run
    config_problems: str | None = "tasks.model_settings.problems"  # (config) -> what is wrong with the task's
    # own settings (its `model.` keys, read only by its Trainer), checked before a run instead of failing
    # after Transform; the default checks them against module.py's MODEL_KEYS and `augmentation`
    draft_schema: str | None = None  # (config, train statistics, margin) -> (schema, what to review)
    # -- the gate --------------------------------------------------------------------------
    eval_config: str | None = None  # (config) -> tfma.EvalConfig: TFMA's metrics on the eval examples
    gate: str | None = None  # (config) -> components.paired_gate.GateSpec: the paired rule that blesses
    evaluator: str | None = None  # (config, examples, model, deployed model, config JSON, code fingerprint) -> its node,
    # for a task judged otherwise than by TFMA (acting in an environment); `eval_config` is then None
    score_fn: str | None = None  # scores the candidate and its challengers on eval and test (choose nothing)
    scores_key: str = "scores"  # those scores' name in `make inspect JSON=1`
    score_lines: str | None = None  # (name, scores) -> lines; None: the shared table of splits
    verdict: str | None = None  # (the gate's scores) -> its metrics, failures and why, for a gate without TFMA
    # -- what users see after a run ------------------------------------------------------------
    predictor: str | None = None  # (config, argparse namespace) -> prints predictions of the pushed model
    predict_options: tuple[Option, ...] = ()
    batch_prediction: str | None = None  # dotted module for `make predict-batch` (components/batch_inference.py):
    # `inputs(config, data, last) -> (key, raw tf.Example bytes) | (key, None, reason)` per input, and
    # `columns(config, outputs) -> {column: value}` for one example's serving outputs; None: not available
    live_truth: str | None = None  # (config, truth file, logged requests, deployed model's dir) -> serving.live_accuracy.
    # Joined: each request joined by its key to the truth that arrived later, and each model's loss on it, NaN where the
    # truth is not known yet (`make monitor TRUTH=...`, docs/serving.md); None: the task has no live accuracy
    report_sections: tuple[tuple[str, str], ...] = ()  # (title, dotted (report, config) -> HTML)
    benchmarks: tuple[tuple[str, str], ...] = ()  # (name, dotted module with `run(args) -> rows`)
    # -- continuous training --------------------------------------------------------------------
    simulation: str | None = None  # dotted module: how `make simulate` cuts the data into daily spans (pipeline/simulate.py)

    @property
    def module(self) -> str:
        """The TFX module file: `tuner_fn` and `run_fn`."""
        return f"{self.package}.module"

    @property
    def preprocessing_module(self) -> str:
        """`preprocessing_fn`: Transform loads only this module, and is keyed on its code."""
        return f"{self.package}.preprocessing"

    @property
    def transform_section(self) -> str:
        return self.sections[0]

    @property
    def folder(self) -> pathlib.Path:
        return pathlib.Path(importlib.import_module(self.package).__file__).resolve().parent

    @property
    def default_config(self) -> pathlib.Path:
        """The task's own YAML: `tasks/<task>/config.yaml`."""
        return self.folder / "config.yaml"

    def call(self, field: str, *args, **kwargs):
        """Call the function a field names."""
        return load(getattr(self, field))(*args, **kwargs)
