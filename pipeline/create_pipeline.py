"""`create_pipeline(config)`: the one pipeline definition every runner uses.

ExampleGen -> StatisticsGen -> CuratedSchemaGen -> ExampleValidator -> AnomalyGate
-> Transform -> Tuner -> Trainer -> Resolver (latest blessed model) -> Evaluator ->
Pusher, and the Scorer beside them. Small builders keep each stage readable;
task-specific parts (the ExampleGen, the module and the EvalConfig) come from `TASKS`.

Each component's cache key includes a fingerprint of the project code it runs and of
its data (pipeline/fingerprint.py), so an edit to `models/` reruns training and what
follows, an edit to the schema reruns validation and what follows, and nothing else.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import tensorflow_model_analysis as tfma
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx.dsl.components.base.base_node import BaseNode

from components.anomaly_gate import AnomalyGate
from components.curated_schema import CuratedSchemaGen
from components.evaluator import Evaluator
from components.pusher import Pusher
from components.scoring import Scorer
from data import schemas
from data.config import SOURCE_FINGERPRINT_KEY, DecisionConfig, PipelineConfig
from pipeline import evaluation
from pipeline.fingerprint import file_fingerprint, source_fingerprint
from pipeline.profile import Deployment, is_uri, training_components
from tasks.decision import source as decision_source
from tasks.decision.example_gen import DecisionExampleGen
from tasks.decision.example_gen import write_splits as decision_write_splits
from tasks.decision.rollout_evaluator import RolloutEvaluator
from tasks.speech import schema_draft as speech_schema_draft
from tasks.speech import source as speech_source
from tasks.speech.example_gen import SpeechExampleGen
from tasks.speech.example_gen import write_splits as speech_write_splits
from tasks.text import schema_draft as text_schema_draft
from tasks.text import source as text_source
from tasks.text.example_gen import TextExampleGen
from tasks.text.example_gen import write_splits as text_write_splits
from tasks.timeseries import schema_draft as timeseries_schema_draft
from tasks.timeseries import source as timeseries_source
from tasks.timeseries.example_gen import TimeSeriesExampleGen, write_windows
from tasks.vision import schema_draft as vision_schema_draft
from tasks.vision import source as vision_source
from tasks.vision.example_gen import VisionExampleGen
from tasks.vision.example_gen import write_splits as vision_write_splits


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What differs between tasks; everything else is shared."""

    module: str  # Python module with tuner_fn and run_fn, beside its `preprocessing` module
    example_gen: Callable[[PipelineConfig], BaseNode]
    eval_config: Callable[[PipelineConfig], tfma.EvalConfig] | None  # TFMA's gate; None: `evaluator` is
    # (config, examples, candidate model, deployed model, task config JSON) -> the gate's node, with a
    # `blessing` output, for tasks judged otherwise than by TFMA metrics on examples (acting: decision).
    evaluator: Callable[..., BaseNode] | None = None
    transform_section: str = "series"  # the config section its preprocessing_fn reads (Transform cache key)
    score_fn: str | None = None  # dotted path: scores the candidate and its challengers on eval and test
    scores_key: str = "scores"  # the name of those scores in `make inspect JSON=1`
    # (config, schema) -> where they disagree (data/schemas.py), checked before anything runs.
    schema_problems: Callable[[PipelineConfig, schema_pb2.Schema], list[str]] = lambda config, schema: []
    # `make schema` (pipeline/draft_schema.py): the local CSV (or folder), the ExampleGen's own writer,
    # and (config, train statistics, margin) -> (schema, what to review).
    resolve_csv: Callable[[str | None, str], str] | None = None
    write_examples: Callable[[PipelineConfig, str, str], object] | None = None
    draft_schema: Callable | None = None

    @property
    def preprocessing_module(self) -> str:
        """`components/<task>/preprocessing.py`: Transform loads only it, and is keyed on its code."""
        return f"{self.module.rpartition('.')[0]}.preprocessing"


def source_data(config: PipelineConfig, resolve: Callable[[str | None, str], str]) -> tuple[str, str]:
    """The CSV (or image folder) an ExampleGen reads and its cache key (content hash locally).

    On Kubeflow/Vertex `config.data` is the profile's gs:// URI, read inside the
    container; the URI is the key, and the remote profiles never take the ExampleGen
    from cache (`cache.uncached`, pipeline/compile.py), so each run reads the data anew.
    """
    if is_uri(config.data):
        return config.data, config.data
    csv_path = resolve(config.data, str(config.task_dir / "data"))
    return csv_path, file_fingerprint(csv_path)


def timeseries_example_gen(config: PipelineConfig) -> BaseNode:
    csv_path, fingerprint = source_data(config, timeseries_source.resolve_csv)
    return TimeSeriesExampleGen(
        csv_path=csv_path,
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(TimeSeriesExampleGen.__module__),
        series_config=json.dumps(dataclasses.asdict(config.series)),
    ).with_id("ExampleGen")


def text_example_gen(config: PipelineConfig) -> BaseNode:
    csv_path, fingerprint = source_data(config, text_source.resolve_csv)
    return TextExampleGen(
        csv_path=csv_path,
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(TextExampleGen.__module__),
        text_config=json.dumps(dataclasses.asdict(config.text)),
        seed=config.seed,
    ).with_id("ExampleGen")


def vision_example_gen(config: PipelineConfig) -> BaseNode:
    folder, fingerprint = source_data(config, vision_source.resolve_folder)
    return VisionExampleGen(
        folder=folder,
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(VisionExampleGen.__module__),
        vision_config=json.dumps(dataclasses.asdict(config.vision)),
        seed=config.seed,
    ).with_id("ExampleGen")


def speech_example_gen(config: PipelineConfig) -> BaseNode:
    folder, fingerprint = source_data(config, speech_source.resolve_folder)
    return SpeechExampleGen(
        folder=folder,
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(SpeechExampleGen.__module__),
        speech_config=json.dumps(dataclasses.asdict(config.speech)),
        seed=config.seed,
    ).with_id("ExampleGen")


def decision_example_gen(config: PipelineConfig) -> BaseNode:
    csv_path, fingerprint = source_data(  # the default data is logged per `decision` (environment, episodes, seed)
        config, lambda path, data_dir: decision_source.resolve_csv(path, data_dir, config.decision)
    )
    return DecisionExampleGen(
        csv_path=csv_path,
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(DecisionExampleGen.__module__),
        decision_config=json.dumps(dataclasses.asdict(config.decision)),
        seed=config.seed,
    ).with_id("ExampleGen")


def rollout_evaluator(config: PipelineConfig, examples, model, baseline_model, task_config: str) -> BaseNode:
    return RolloutEvaluator(
        examples=examples,
        model=model,
        baseline_model=baseline_model,
        task_config=task_config,
        scores_key="decision_scores",
        source_fingerprint=source_fingerprint(RolloutEvaluator.__module__),  # its imports (rollouts, serving) included
    ).with_id("Evaluator")


TASKS: dict[str, TaskSpec] = {
    "text": TaskSpec(
        module="tasks.text.module",
        example_gen=text_example_gen,
        eval_config=evaluation.text_eval_config,
        transform_section="text",
        score_fn="components.classification.score",
        scores_key="text_scores",
        schema_problems=schemas.text_problems,
        resolve_csv=text_source.resolve_csv,
        write_examples=lambda config, csv, uri: text_write_splits(csv, config.text, config.seed, uri),
        draft_schema=text_schema_draft.draft,
    ),
    "timeseries": TaskSpec(
        module="tasks.timeseries.module",
        example_gen=timeseries_example_gen,
        eval_config=evaluation.timeseries_eval_config,
        score_fn="tasks.timeseries.scores.score",
        scores_key="forecast_scores",
        schema_problems=schemas.timeseries_problems,
        resolve_csv=timeseries_source.resolve_csv,
        write_examples=lambda config, csv, uri: write_windows(csv, config.series, uri),
        draft_schema=timeseries_schema_draft.draft,
    ),
    "vision": TaskSpec(
        module="tasks.vision.module",
        example_gen=vision_example_gen,
        eval_config=evaluation.vision_eval_config,
        transform_section="vision",
        score_fn="components.classification.score",
        scores_key="vision_scores",
        schema_problems=schemas.vision_problems,
        resolve_csv=vision_source.resolve_folder,
        write_examples=lambda config, folder, uri: vision_write_splits(folder, config.vision, config.seed, uri),
        draft_schema=vision_schema_draft.draft,
    ),
    "speech": TaskSpec(
        module="tasks.speech.module",
        example_gen=speech_example_gen,
        eval_config=evaluation.speech_eval_config,
        transform_section="speech",
        score_fn="tasks.speech.scores.score",
        scores_key="speech_scores",
        schema_problems=schemas.speech_problems,
        resolve_csv=speech_source.resolve_folder,
        write_examples=lambda config, folder, uri: speech_write_splits(folder, config.speech, config.seed, uri),
        draft_schema=speech_schema_draft.draft,
    ),
    "decision": TaskSpec(
        module="tasks.decision.module",
        example_gen=decision_example_gen,
        eval_config=None,
        evaluator=rollout_evaluator,
        transform_section="decision",
        schema_problems=schemas.decision_problems,
        resolve_csv=lambda path, data_dir: decision_source.resolve_csv(path, data_dir, DecisionConfig()),
        write_examples=lambda config, csv, uri: decision_write_splits(csv, config.decision, config.seed, uri),
    ),
}


def task_spec(task: str) -> TaskSpec:
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}'; known: {sorted(TASKS)}")
    return TASKS[task]


def schema_origin(config: PipelineConfig) -> str:
    """The schema's name as the config spells it (a relative path), or its file name."""
    path = config.schema or ""
    return path if not path.startswith("/") else path.rsplit("/", 1)[-1]


def validation_components(config: PipelineConfig, examples) -> list[BaseNode]:
    """Statistics, the curated schema, validation and the gate that stops on anomalies."""
    if not config.schema_path:
        raise ValueError(f"task '{config.task}' needs a curated schema: set `schema` in its config")
    statistics_gen = tfx.components.StatisticsGen(examples=examples)
    with open(config.schema_path) as handle:
        schema_text = handle.read()
    schemas.check(config, schema_text, task_spec(config.task).schema_problems)  # before anything runs
    # The content travels in the pipeline (and is its cache key); only the config's
    # relative name is recorded, never a path of the machine that built the pipeline.
    schema_gen = CuratedSchemaGen(schema_text=schema_text, origin=schema_origin(config))
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    gate = AnomalyGate(
        anomalies=example_validator.outputs["anomalies"],
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        examples=examples,
        source_fingerprint=source_fingerprint(AnomalyGate.__module__),
    )
    return [statistics_gen, schema_gen, example_validator, gate]


def create_pipeline(
    config: PipelineConfig,
    beam_pipeline_args: list[str] | None = None,
    deployment: Deployment | None = None,
    enable_cache: bool = True,
) -> tfx.dsl.Pipeline:
    """`deployment` (pipeline/profile.py): paths and services of Kubeflow/Vertex; None: the local run.
    `enable_cache=False` reruns every component (`make run-local FRESH=1`)."""
    spec = task_spec(config.task)
    deployment = deployment or Deployment.local(config)
    # What the components read; the output directory is where this machine keeps runs
    # and compiled specs, which no component needs (and a compiled spec must not carry).
    custom_config = {k: v for k, v in config.to_dict().items() if k != "output_dir"}
    example_gen = spec.example_gen(config)
    examples = example_gen.outputs["examples"]
    statistics_gen, schema_gen, example_validator, gate = validation_components(config, examples)
    schema = schema_gen.outputs["schema"]

    transform = tfx.components.Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=f"{spec.preprocessing_module}.preprocessing_fn",
        splits_config=tfx.proto.SplitsConfig(analyze=["train"], transform=["train", "eval", "test"]),
        # Only what preprocessing reads, so that changing training settings keeps Transform cached.
        custom_config={
            spec.transform_section: custom_config[spec.transform_section],
            SOURCE_FINGERPRINT_KEY: source_fingerprint(spec.preprocessing_module),
        },
        # Pre-transform statistics and validation already ran; post-transform statistics
        # cost a third of Transform's time on two cores and gate nothing.
        disable_statistics=True,
    )
    transform.add_upstream_node(gate)  # no Transform (and so no training) on data with anomalies

    training_inputs = dict(
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema,
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
    )
    training_config = {**custom_config, SOURCE_FINGERPRINT_KEY: source_fingerprint(spec.module)}
    tuner_cls, trainer_cls, training_inputs["custom_config"] = training_components(deployment, training_config)
    tuner = tuner_cls(tuner_fn=f"{spec.module}.tuner_fn", **training_inputs)
    trainer = trainer_cls(
        run_fn=f"{spec.module}.run_fn", hyperparameters=tuner.outputs["best_hyperparameters"], **training_inputs
    )

    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("LatestBlessedModelResolver")
    if spec.evaluator is not None:
        evaluator = spec.evaluator(
            config, examples, trainer.outputs["model"], model_resolver.outputs["model"], json.dumps(custom_config, sort_keys=True)
        )
    else:
        eval_config = spec.eval_config(config)
        evaluator = Evaluator(
            examples=examples,
            model=trainer.outputs["model"],
            baseline_model=model_resolver.outputs["model"],
            eval_config=evaluation.with_source_fingerprint(
                eval_config, source_fingerprint(Evaluator.__module__, *evaluation.custom_metric_modules(eval_config))
            ),
            example_splits=["eval"],
        )
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=deployment.serving_dir)
        ),
        custom_config={SOURCE_FINGERPRINT_KEY: source_fingerprint(Pusher.__module__)},
    )
    components = [
        example_gen, statistics_gen, schema_gen, example_validator, gate,
        transform, tuner, trainer, model_resolver, evaluator, pusher,
    ]  # fmt: skip
    if spec.score_fn:  # eval and test scores of the candidate and its challengers; chooses nothing
        components.append(
            Scorer(
                examples=examples,
                model=trainer.outputs["model"],
                score_fn=spec.score_fn,
                scores_key=spec.scores_key,
                task_config=json.dumps(custom_config, sort_keys=True),
                source_fingerprint=source_fingerprint(Scorer.__module__, spec.score_fn.rpartition(".")[0]),
            ).with_id("Scorer")
        )
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=deployment.pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=deployment.metadata_connection_config(),  # None on Kubeflow/Vertex
        beam_pipeline_args=beam_pipeline_args or [],
    )
