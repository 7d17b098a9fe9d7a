"""`create_pipeline(config)`: the one pipeline definition every runner uses.

ExampleGen -> StatisticsGen -> CuratedSchemaGen -> ExampleValidator -> AnomalyGate
-> Transform -> Tuner -> Trainer -> Resolver (latest blessed model) -> Evaluator ->
Pusher, and the Scorer beside them. Small builders keep each stage readable; what
differs between tasks (the writer of the ExampleGen, the module files, the gate) comes
from the task's TaskSpec (tasks/taskspec.py), found in the registry (tasks/__init__.py).

Each component's cache key includes a fingerprint of the project code it runs and of
its data (pipeline/fingerprint.py), so an edit to `models/` reruns training and what
follows, an edit to the schema reruns validation and what follows, and nothing else.
"""
from __future__ import annotations

import json

from tfx.components import ExampleValidator, StatisticsGen, Transform
from tfx.dsl.components.base.base_node import BaseNode
from tfx.orchestration.pipeline import Pipeline
from tfx.proto.pusher_pb2 import PushDestination
from tfx.proto.trainer_pb2 import EvalArgs, TrainArgs
from tfx.proto.transform_pb2 import SplitsConfig

import tasks
from components import paired_evidence, paired_gate, resolvers
from components.anomaly_gate import AnomalyGate
from components.curated_schema import CuratedSchemaGen
from components.evaluator import REPLACE_BROKEN_DEPLOYED, Evaluator
from components.example_gen import ExampleGen
from components.pusher import Pusher
from components.scoring import Scorer
from data import schemas, spans
from data.config import SOURCE_FINGERPRINT_KEY, PipelineConfig
from data.splits import GATE_SPLIT
from pipeline import evaluation
from pipeline.fingerprint import file_fingerprint, source_fingerprint
from pipeline.profile import Deployment, is_uri, training_components
from tasks.taskspec import TaskSpec, load


def source_data(config: PipelineConfig, spec: TaskSpec) -> tuple[str, str]:
    """The CSV (or folder, or span pattern) the ExampleGen reads and its cache key (content hash
    locally; of a pattern, that of the spans `config.spans` selects).

    On Kubeflow/Vertex `config.data` is the profile's gs:// URI, read inside the
    container; the URI is the key, and the remote profiles never take the ExampleGen
    from cache (`cache.uncached`, pipeline/compile.py), so each run reads the data anew.
    """
    if is_uri(config.data):
        return config.data, config.data
    source = spec.call("resolve_data", config)
    if spans.is_pattern(source):  # the selected spans' numbers, versions and contents: a new span reruns
        chosen = spans.select(source, config.spans)
        return source, json.dumps([[s.number, s.version, file_fingerprint(s.path)] for s in chosen])
    return source, file_fingerprint(source)


def writer_config(config: PipelineConfig, spec: TaskSpec) -> str:
    """What the writer reads, as JSON: the task's sections and the seed, so that training
    settings keep the ExampleGen cached."""
    raw = config.to_dict()
    sections = {s: raw[s] for s in spec.sections}
    if spans.is_pattern(config.data):  # the pattern (its rows keep their splits), which spans, how a series splits them
        sections.update(data=config.data, spans=raw["spans"])
    return json.dumps({"task": config.task, "seed": config.seed, **sections}, sort_keys=True)


def example_gen(config: PipelineConfig, spec: TaskSpec) -> BaseNode:
    source, fingerprint = source_data(config, spec)
    return ExampleGen(
        source=source,
        writer=spec.write_examples,
        task_config=writer_config(config, spec),
        data_fingerprint=fingerprint,
        source_fingerprint=source_fingerprint(ExampleGen.__module__, spec.write_examples.rpartition(".")[0]),
    ).with_id("ExampleGen")


def task_spec(task: str) -> TaskSpec:
    return tasks.spec(task)


def schema_problems(spec: TaskSpec):
    """(config, schema) -> problems: the task's own check, or none."""
    return load(spec.schema_problems) if spec.schema_problems else (lambda config, schema: [])


def schema_origin(config: PipelineConfig) -> str:
    """The schema's name as the config spells it (a relative path), or its file name."""
    path = config.schema or ""
    return path if not path.startswith("/") else path.rsplit("/", 1)[-1]


def validation_components(config: PipelineConfig, examples) -> list[BaseNode]:
    """Statistics, the curated schema, validation and the gate that stops on anomalies."""
    if not config.schema_path:
        raise ValueError(f"task '{config.task}' needs a curated schema: set `schema` in its config")
    statistics_gen = StatisticsGen(examples=examples)
    with open(config.schema_path) as handle:
        schema_text = handle.read()
    spec = task_spec(config.task)
    schemas.check(config, schema_text, schema_problems(spec))  # before anything runs
    # The content travels in the pipeline (and is its cache key); only the config's
    # relative name is recorded, never a path of the machine that built the pipeline.
    schema_gen = CuratedSchemaGen(schema_text=schema_text, origin=schema_origin(config))
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    gate = AnomalyGate(
        anomalies=example_validator.outputs["anomalies"],
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        examples=examples,
        source_fingerprint=source_fingerprint(AnomalyGate.__module__),
        example_names=json.dumps(list(spec.example_names)),
    )
    return [statistics_gen, schema_gen, example_validator, gate]


def create_pipeline(
    config: PipelineConfig,
    beam_pipeline_args: list[str] | None = None,
    deployment: Deployment | None = None,
    enable_cache: bool = True,
) -> Pipeline:
    """`deployment` (pipeline/profile.py): paths and services of Kubeflow/Vertex; None: the local run.
    `enable_cache=False` reruns every component (`make run-local FRESH=1`)."""
    spec = task_spec(config.task)
    problems = load(spec.config_problems)(config) if spec.config_problems else []
    if problems:  # before anything runs: a setting only the Trainer reads would fail after Transform
        raise ValueError(f"the {config.task} config: " + "; ".join(problems))
    deployment = deployment or Deployment.local(config)
    # What the components read; the output directory is where this machine keeps runs
    # and compiled specs, which no component needs (and a compiled spec must not carry).
    custom_config = {k: v for k, v in config.to_dict().items() if k != "output_dir"}
    generator = example_gen(config, spec)
    examples = generator.outputs["examples"]
    statistics_gen, schema_gen, example_validator, gate = validation_components(config, examples)
    schema = schema_gen.outputs["schema"]

    transform = Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=f"{spec.preprocessing_module}.preprocessing_fn",
        splits_config=SplitsConfig(analyze=["train"], transform=["train", "eval", "test"]),
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
        train_args=TrainArgs(splits=["train"]),
        eval_args=EvalArgs(splits=["eval"]),
    )
    training_config = {**custom_config, SOURCE_FINGERPRINT_KEY: source_fingerprint(spec.module)}
    tuner_cls, trainer_cls, training_inputs["custom_config"], tuner_args = training_components(deployment, training_config)
    tuner = tuner_cls(tuner_fn=f"{spec.module}.tuner_fn", **tuner_args, **training_inputs)
    warm_start = []
    if config.trainer.warm_start:  # the latest blessed model trained on other (earlier) data: TFX's `base_model`
        warm_start = [resolvers.latest_blessed(
            resolvers.LatestBlessedEarlierDataModelStrategy, "WarmStartModelResolver", remote=deployment.remote,
            examples=transform.outputs["transformed_examples"],
        )]  # fmt: skip
        training_inputs["base_model"] = warm_start[0].outputs["model"]
    trainer = trainer_cls(
        run_fn=f"{spec.module}.run_fn", hyperparameters=tuner.outputs["best_hyperparameters"], **training_inputs
    )

    # the deployed model other than the candidate: a rerun with no new data stays cached (components/resolvers.py)
    model_resolver = resolvers.latest_blessed(
        resolvers.LatestBlessedOtherModelStrategy, "LatestBlessedModelResolver", remote=deployment.remote,
        candidate=trainer.outputs["model"],
    )
    if spec.evaluator is not None:  # a gate of the task's own (acting in an environment)
        evaluator = spec.call(
            "evaluator", config, examples, trainer.outputs["model"], model_resolver.outputs["model"],
            json.dumps(custom_config, sort_keys=True), source_fingerprint(spec.evaluator.rpartition(".")[0]),
        )  # fmt: skip
    else:
        eval_config = spec.call("eval_config", config)
        evaluator = Evaluator(
            examples=examples,
            model=trainer.outputs["model"],
            baseline_model=model_resolver.outputs["model"],
            eval_config=evaluation.with_source_fingerprint(
                eval_config,
                source_fingerprint(
                    Evaluator.__module__, paired_gate.__name__, paired_evidence.__name__,
                    *([spec.gate.rpartition(".")[0]] if spec.gate else []), *evaluation.custom_metric_modules(eval_config),
                ),  # fmt: skip
            ),
            example_splits=[GATE_SPLIT],  # the part of eval nothing was chosen on (data/splits.py)
            replace_broken_deployed=bool(config.evaluation.get(REPLACE_BROKEN_DEPLOYED, False)),
            gate=spec.call("gate", config) if spec.gate else None,
        )
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=PushDestination(
            filesystem=PushDestination.Filesystem(base_directory=deployment.serving_dir)
        ),
        custom_config={SOURCE_FINGERPRINT_KEY: source_fingerprint(Pusher.__module__)},
    )
    components = [
        generator, statistics_gen, schema_gen, example_validator, gate,
        transform, tuner, *warm_start, trainer, model_resolver, evaluator, pusher,
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
    return Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=deployment.pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=deployment.metadata_connection_config(),  # None on Kubeflow/Vertex
        beam_pipeline_args=beam_pipeline_args or [],
    )
