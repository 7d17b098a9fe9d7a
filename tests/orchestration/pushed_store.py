"""A real ML Metadata store with pushed versions, recorded as a TFX run records them, for the
tests of `make models` and `make rollback` (no pipeline run: seconds, not minutes).

Each run: ExampleGen -> Examples (its `source`, `spans`, `span`), Trainer -> Model (a tiny real
SavedModel, tests/window_models.py, whose forecast is the window's sum times `scale`), Evaluator
-> ModelBlessing (`blessed`, `current_model_id`, the paired gate's JSON from components/paired_gate
on random losses) and ModelEvaluation (TFMA's metrics and validations files), and, when blessed,
Pusher -> PushedModel with the model's files pushed atomically under OUTPUT_DIR/<task>/serving.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

import ml_metadata
import numpy as np
import tensorflow as tf
from ml_metadata.proto import metadata_store_pb2 as pb
from tensorflow_model_analysis.proto import metrics_for_slice_pb2, validation_result_pb2

from components import paired_gate, pusher
from components.resolvers import BLESSED, CURRENT_MODEL_ID
from data import spans as spans_lib
from pipeline import mlmd
from tests.window_models import save_window_model

TASK = "timeseries"
PIPELINE = f"transformers-{TASK}"
GATE = paired_gate.GateSpec(
    losses="unused", comparisons=(paired_gate.Comparison("persistence", "the persistence challenger", paired_gate.SUPERIORITY),),
    deployed_margin=0.02, relative=True, unit=paired_gate.RELATIVE_UNIT,
)  # fmt: skip


@dataclasses.dataclass
class Run:
    name: str
    examples: pb.Artifact
    model: pb.Artifact
    blessing: pb.Artifact
    gate: dict  # paired_gate.judge's result
    pushed: pb.Artifact | None
    version: int | None  # the pushed version


def gate_result(seed: int, candidate_better: bool) -> dict:
    """The paired gate's judgement on random losses where the candidate is (not) clearly better."""
    rng = np.random.default_rng(seed)
    other = rng.gamma(2.0, 1.0, size=400)  # (n,) the challenger's absolute errors
    candidate = other * (0.8 if candidate_better else 1.2) + rng.normal(0, 0.01, size=400)
    return paired_gate.judge(GATE, {paired_gate.CANDIDATE: candidate, "persistence": other})


def write_tfma_output(uri: pathlib.Path, mae: float) -> None:
    """The two files inspect reads from an Evaluator's output: metrics per slice, and validations."""
    uri.mkdir(parents=True)
    metrics = metrics_for_slice_pb2.MetricsForSlice()
    metrics.slice_key.SetInParent()  # the overall slice
    item = metrics.metric_keys_and_values.add()
    item.key.name = "mae"
    item.value.double_value.value = mae
    with tf.io.TFRecordWriter(str(uri / "metrics-00000-of-00001.tfrecord")) as writer:
        writer.write(metrics.SerializeToString())
    with tf.io.TFRecordWriter(str(uri / "validations.tfrecord")) as writer:
        writer.write(validation_result_pb2.ValidationResult(validation_ok=True).SerializeToString())


class PushedStore:
    """OUTPUT_DIR/<task>/{metadata.sqlite, serving/, pipeline_root/} built run by run."""

    def __init__(self, output_dir: pathlib.Path):
        self.task_dir = output_dir / TASK
        self.task_dir.mkdir(parents=True, exist_ok=True)
        self.metadata_path = str(self.task_dir / "metadata.sqlite")
        self.serving_dir = str(self.task_dir / "serving")
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = self.metadata_path
        self.store = ml_metadata.MetadataStore(config)
        self.runs: list[Run] = []

    def type_id(self, kind, name: str) -> int:
        if kind is pb.ArtifactType:
            return self.store.put_artifact_type(pb.ArtifactType(name=name))
        if kind is pb.ExecutionType:
            return self.store.put_execution_type(pb.ExecutionType(name=name))
        return self.store.put_context_type(pb.ContextType(name=name))

    def artifact(self, type_name: str, uri: str, **custom) -> pb.Artifact:
        found = pb.Artifact(type_id=self.type_id(pb.ArtifactType, type_name), uri=uri, state=pb.Artifact.LIVE)
        for key, value in custom.items():
            if isinstance(value, int):
                found.custom_properties[key].int_value = value
            else:
                found.custom_properties[key].string_value = value
        return found

    def execute(self, run: pb.Context, node: str, inputs: dict, outputs: dict) -> dict[str, pb.Artifact]:
        """One COMPLETE execution of `node` in `run`; returns the outputs with their ids."""
        execution = pb.Execution(type_id=self.type_id(pb.ExecutionType, f"components.{node}"), last_known_state=pb.Execution.COMPLETE)
        node_context = pb.Context(type_id=self.type_id(pb.ContextType, mlmd.NODE_CONTEXT), name=f"{PIPELINE}.{node}")
        existing = self.store.get_context_by_type_and_name(mlmd.NODE_CONTEXT, node_context.name)
        pairs = []
        for kind, artifacts in ((pb.Event.INPUT, inputs), (pb.Event.OUTPUT, outputs)):
            for key, artifact in artifacts.items():
                event = pb.Event(type=kind)
                event.path.steps.add().key = key
                event.path.steps.add().index = 0
                pairs.append((artifact, event))
        _, ids, _ = self.store.put_execution(execution, pairs, [run, existing or node_context])
        found = {}
        for (artifact, _), artifact_id in zip(pairs, ids, strict=True):
            artifact.id = artifact_id
        for key, artifact in outputs.items():
            found[key] = self.store.get_artifacts_by_id([artifact.id])[0]
        return found

    def run(self, source: str, spans: list[int] | None, scale: float, blessed: bool = True, seed: int = 0) -> Run:
        """One pipeline run: its data, a model whose forecast is sum(window) * scale, the gate, the push."""
        index = len(self.runs)
        name = f"2026-12-0{index + 1}T10:00:00.000000"
        run = pb.Context(type_id=self.type_id(pb.ContextType, mlmd.RUN_CONTEXT), name=name)
        run.id = self.store.put_contexts([run])[0]
        root = self.task_dir / "pipeline_root"
        read = {"source": source}
        if spans is not None:
            read |= {spans_lib.SPANS_PROPERTY: json.dumps(spans), "span": spans[-1], spans_lib.SPAN_PATTERN_PROPERTY: "day-{SPAN}.csv"}
        examples = self.execute(run, "ExampleGen", {}, {"examples": self.artifact("Examples", str(root / f"ExampleGen/{index}"), **read)})["examples"]
        model_uri = save_window_model(str(root / f"Trainer/model/{index}"), scale=scale)
        model = self.execute(run, "Trainer", {"examples": examples}, {"model": self.artifact("Model", model_uri)})["model"]
        gate = gate_result(seed, candidate_better=blessed)
        evaluation_uri = root / f"Evaluator/evaluation/{index}"
        write_tfma_output(evaluation_uri, mae=1.0 + index)
        blessing = self.artifact("ModelBlessing", str(root / f"Evaluator/blessing/{index}"), **{
            BLESSED: int(blessed), CURRENT_MODEL_ID: model.id, "current_model": model.uri,
            paired_gate.GATE_PROPERTY: json.dumps(gate)})  # fmt: skip
        outputs = {"blessing": blessing, "evaluation": self.artifact("ModelEvaluation", str(evaluation_uri))}
        blessing = self.execute(run, "Evaluator", {"model": model, "examples": examples}, outputs)["blessing"]
        pushed, version = None, None
        if blessed:
            version, destination = pusher.push_atomically(model.uri, self.serving_dir)
            pushed = self.artifact("PushedModel", str(root / f"Pusher/pushed_model/{index}"),
                                   pushed=1, pushed_version=version, pushed_destination=destination)  # fmt: skip
            pushed = self.execute(run, "Pusher", {"model": model, "model_blessing": blessing}, {"pushed_model": pushed})["pushed_model"]
            version = int(version)
        found = Run(name, examples, model, blessing, gate, pushed, version)
        self.runs.append(found)
        return found
