"""Deployment profiles: where a pipeline runs, read from `pipeline/profiles/<name>.yaml`.

A profile holds everything that differs between the local run, Kubeflow Pipelines and
Vertex AI Pipelines, so that moving between them is a profile change, never a code edit:
the container image, the pipeline root and serving directory, the data URI per task,
the Beam runner presets and the orchestrator's connection (project/region or host).

Strings may use `{task}`, `{output_dir}`, `{image}`, `{project}`, `{region}`,
`{pipeline_root}`, `{direct_num_workers}` and `{setup_file}` (this project's setup.py); they
are filled in per task. A local Beam preset may also name `{job_endpoint}` and
`{worker_pool}`, the addresses of the services `make run-local` starts for it
(pipeline/portable.py).
Override any key with `--profile-set key.sub=value` (same syntax as `--set`), and pick a
Beam preset with `--profile-set beam.runner=flink` or, per task config, `--set beam.runner=flink`.
"""
from __future__ import annotations

import copy
import dataclasses
import pathlib
from typing import Any

import yaml

from data.config import REPO_ROOT, PipelineConfig
from data.notices import notices
from pipeline.config import apply_overrides

PROFILES_DIR = pathlib.Path(__file__).resolve().parent / "profiles"
TARGETS = ("local", "vertex", "kubeflow")
AUTO = "auto"  # beam.runner: a preset chosen by the data's size (Profile.beam_choice)


def is_uri(path: str | None) -> bool:
    """gs://, s3://, hdfs://...: read by the orchestrator's containers, not on this machine."""
    return bool(path) and "://" in path


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What `create_pipeline` needs to know about where it runs (None there: the local run)."""

    pipeline_root: str
    serving_dir: str
    local_metadata: str | None = None  # SQLite path; None: the orchestrator's own ML Metadata
    vertex_training: dict[str, Any] | None = None  # Trainer and Tuner as Vertex AI custom jobs

    @property
    def remote(self) -> bool:
        """Kubeflow/Vertex: the orchestrator keeps ML Metadata and compiles the pipeline (KFP V2)."""
        return self.local_metadata is None

    def metadata_connection_config(self):
        if self.local_metadata is None:
            return None
        from tfx.orchestration.metadata import sqlite_metadata_connection_config

        return sqlite_metadata_connection_config(self.local_metadata)

    @classmethod
    def local(cls, config: PipelineConfig) -> Deployment:
        return cls(config.pipeline_root, config.serving_dir, local_metadata=config.metadata_path)


@dataclasses.dataclass
class Profile:
    name: str
    raw: dict[str, Any]

    @property
    def target(self) -> str:
        return self.raw.get("target", "local")

    def section(self, key: str) -> dict[str, Any]:
        return dict(self.raw.get(key) or {})

    # -- per-task values ------------------------------------------------------------
    def variables(self, config: PipelineConfig) -> dict[str, Any]:
        orchestrator = self.section(self.target)
        values = {
            "task": config.task,
            "output_dir": str(pathlib.Path(config.output_dir).resolve()),
            "project": orchestrator.get("project", ""),
            "region": orchestrator.get("region", ""),
            "direct_num_workers": config.beam.get("direct_num_workers", 0),
            "setup_file": str(REPO_ROOT / "setup.py"),
        }
        values["image"] = str(self.raw.get("image") or "").format(**values)
        values["pipeline_root"] = self.pipeline_root(config, values)
        return values

    def _format(self, key: str, config: PipelineConfig, values: dict[str, Any] | None = None) -> str:
        template = self.raw.get(key)
        if not template:
            raise ValueError(f"profile '{self.name}' has no '{key}' ({PROFILES_DIR / self.name}.yaml)")
        return str(template).format(**(values or self.variables(config)))

    def pipeline_root(self, config: PipelineConfig, values: dict[str, Any] | None = None) -> str:
        if values is None:
            return self.variables(config)["pipeline_root"]
        return self._format("pipeline_root", config, values)

    def image(self, config: PipelineConfig) -> str:
        return self._format("image", config)

    def serving_dir(self, config: PipelineConfig) -> str:
        return self._format("serving_dir", config)

    def data(self, task: str) -> str | None:
        """The task's data URI (remote targets), or None: the task config's data."""
        return self.section("data").get(task)

    def beam_choice(self, config: PipelineConfig, data_bytes: int | None = None) -> tuple[str, str]:
        """(preset, why): the Beam preset a run uses and the reason, for the terminal.

        `auto` picks by data size: up to `in_memory_max_mb` (task config's `beam:` first, then
        the profile's) Beam runs in this process (`auto_small`), since each multi-processing
        worker re-imports TensorFlow and costs more than the work on small data; larger or
        unknown (remote) data gets `auto_large`. The measured crossover: bench/beam_modes.py."""
        beam = self.section("beam")
        runner = config.beam.get("runner") or beam.get("runner") or "direct"
        if runner != AUTO:
            return runner, f"beam.runner={runner}"
        limit_mb = float(config.beam.get("in_memory_max_mb", beam.get("in_memory_max_mb", 0)))
        small, large = beam.get("auto_small", "direct_in_memory"), beam.get("auto_large", "direct")
        if data_bytes is None:
            return large, "beam.runner=auto, data size unknown"
        size = f"data {data_bytes / 2**20:.1f} MB"
        if data_bytes <= limit_mb * 2**20:
            return small, f"beam.runner=auto, {size} <= in_memory_max_mb {limit_mb:g}"
        return large, f"beam.runner=auto, {size} > in_memory_max_mb {limit_mb:g}"

    def beam_runner(self, config: PipelineConfig, data_bytes: int | None = None) -> str:
        return self.beam_choice(config, data_bytes)[0]

    def beam_preset(self, runner: str) -> list[str]:
        """A preset's arguments, unformatted."""
        presets = self.section("beam").get("presets") or {}
        if runner not in presets:
            raise ValueError(
                f"Beam runner preset '{runner}' is not in profile '{self.name}' (presets: {sorted(presets)}); "
                "choose one with --profile-set beam.runner=NAME or --set beam.runner=NAME"
            )
        return [str(arg) for arg in presets[runner]]

    def beam_pipeline_args(
        self, config: PipelineConfig, data_bytes: int | None = None, services: dict[str, str] | None = None
    ) -> list[str]:
        """The chosen preset, formatted; `services`: the addresses of local Beam services the
        preset names (`{job_endpoint}`, `{worker_pool}`: pipeline/portable.py starts them)."""
        runner = self.beam_runner(config, data_bytes)
        values = {**self.variables(config), **(services or {})}
        try:
            return [arg.format(**values) for arg in self.beam_preset(runner)]
        except KeyError as missing:
            raise ValueError(
                f"Beam preset '{runner}' of profile '{self.name}' names {{{missing.args[0]}}}, "
                "the address of a service started for a local run (pipeline/portable.py); "
                "it runs with `make run-local`, not here"
            ) from None

    def vertex_training(self) -> dict[str, Any] | None:
        training = self.section("vertex").get("training") or {}
        return training if training.get("enabled") else None

    def deployment(self, config: PipelineConfig) -> Deployment:
        if self.target == "local":
            return Deployment.local(config)
        training = self.vertex_training()
        if training is not None:
            vertex = self.section("vertex")
            training = {**training, "project": vertex.get("project"), "region": vertex.get("region"),
                        "image": self.image(config)}  # fmt: skip
        return Deployment(self.pipeline_root(config), self.serving_dir(config), None, training)


def load_profile(name: str, overrides: list[str] | None = None) -> Profile:
    """`pipeline/profiles/<name>.yaml`, or a YAML file path, with `key.sub=value` overrides."""
    path = pathlib.Path(name) if name.endswith((".yaml", ".yml")) else PROFILES_DIR / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no profile '{name}' at {path} (known profiles: {known})")
    raw = yaml.safe_load(path.read_text()) or {}
    raw = apply_overrides(copy.deepcopy(raw), overrides or [])
    target = raw.get("target", "local")
    if target not in TARGETS:
        raise ValueError(f"profile '{name}': target '{target}' must be one of {TARGETS}")
    return Profile(path.stem, raw)


def worker_pools(machine_spec: dict[str, Any], image: str, workers: int) -> list[dict[str, Any]]:
    """Vertex custom-job pools for `workers` Trainer processes: pool 0 the chief (one replica),
    pool 1 the other workers (`workers - 1` replicas). Vertex then sets TF_CONFIG on each with a
    `chief` and `workers - 1` `worker` tasks, which components/distribution.py reads."""
    if workers < 1:
        raise ValueError(f"trainer.workers is {workers}: the number of Trainer processes, at least 1")
    pool = {"machine_spec": machine_spec, "container_spec": {"image_uri": image}}
    pools = [{**pool, "replica_count": 1}]
    if workers > 1:
        pools.append({**pool, "replica_count": workers - 1})
    return pools


def job_spec(training: dict[str, Any], machine_spec: dict[str, Any], workers: int) -> dict[str, Any]:
    return {"project": training["project"], "worker_pool_specs": worker_pools(machine_spec, training["image"], workers)}


def training_components(deployment: Deployment | None, custom_config: dict[str, Any]):
    """(Tuner class, Trainer class, custom_config, the Tuner's extra arguments): the standard
    components, or TFX's Vertex AI Training extensions when the deployment asks for them, with
    `tuner.parallel_trials` replicas for the Tuner (TuneArgs: TFX's Vertex Tuner adds pool 1
    with parallel_trials - 1 replicas beside the chief's pool 0, and runs the chief oracle).
    The extensions are imported for Vertex only: `tfx.v1` imports google.cloud.aiplatform, about
    2.5 s of every local process's start-up (docs/benchmarks.md)."""
    from tfx.components import Trainer, Tuner

    tuner = custom_config.get("tuner") or {}
    parallel, trials = int(tuner.get("parallel_trials", 1)), int(tuner.get("max_trials", 1))
    if not 1 <= parallel <= trials:  # more replicas than trials would wait for trials that never come
        raise ValueError(f"tuner.parallel_trials is {parallel}: trials at once, from 1 to tuner.max_trials ({trials})")
    if deployment is None or deployment.vertex_training is None:
        if parallel > 1:
            notices().warning(f"tuner.parallel_trials is {parallel}, which only Vertex training runs (the "
                              "vertex profile); this run's Tuner takes its trials one at a time")  # fmt: skip
        return Tuner, Trainer, custom_config, {}
    from tfx.proto.tuner_pb2 import TuneArgs
    from tfx.v1.extensions import google_cloud_ai_platform as vertex

    training = deployment.vertex_training
    machine_spec = {"machine_type": training.get("machine_type", "n1-standard-4")}
    if training.get("accelerator_type"):
        machine_spec |= {"accelerator_type": training["accelerator_type"],
                         "accelerator_count": training.get("accelerator_count", 1)}  # fmt: skip
    workers = int((custom_config.get("trainer") or {}).get("workers", 1))
    vertex_config = {
        vertex.ENABLE_VERTEX_KEY: True,
        vertex.VERTEX_REGION_KEY: training["region"],
        vertex.TRAINING_ARGS_KEY: job_spec(training, machine_spec, workers),
        # the Tuner extension's key (tuner/executor.py): each trial trains alone on one replica; its
        # `job_spec` shape is the one the extension extends with the parallel trials' pool
        "ai_platform_tuning_args": {"project": training["project"],
                                    "job_spec": {"worker_pool_specs": worker_pools(machine_spec, training["image"], 1)}},
    }  # fmt: skip
    tuner_args = {"tune_args": TuneArgs(num_parallel_trials=parallel)} if parallel > 1 else {}
    return vertex.Tuner, vertex.Trainer, {**custom_config, **vertex_config}, tuner_args
