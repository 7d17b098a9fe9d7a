"""Read what a run left in ML Metadata: executions, timings, the Evaluator's decision, pushes.

Used by the local runner's end-of-run summary and by the benchmarks.
"""
from __future__ import annotations

import dataclasses
import os

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

RUN_CONTEXT = "pipeline_run"  # TFX context types
NODE_CONTEXT = "node"
STATES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}
# A PushedModel's custom properties: the Pusher's (TFX's names), and a rollback's (pipeline/rollback.py).
PUSHED, PUSHED_VERSION, PUSHED_DESTINATION = "pushed", "pushed_version", "pushed_destination"
ROLLBACK_OF, ROLLBACK_TO = "rollback_of", "rollback_to"  # the version replaced; the version whose files were re-pushed
ROLLBACK = "Rollback"  # the execution type of a rollback
# On a ModelBlessing a rollback set to blessed = 0 (or back to 1): JSON {"at", "to_version", "served_as"}.
REVOKED_BY_ROLLBACK, RESTORED_BY_ROLLBACK = "revoked_by_rollback", "restored_by_rollback"


class StoreMissing(FileNotFoundError):
    pass


def open_store(path: str, writable: bool = False) -> mlmd.MetadataStore:
    """Read-only unless `writable` (only pipeline/recovery.py writes, between runs)."""
    if not os.path.exists(path):
        raise StoreMissing(f"no ML Metadata store at {path}: run the pipeline first (make run-local)")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    modes = metadata_store_pb2.SqliteMetadataSourceConfig
    config.sqlite.connection_mode = modes.READWRITE if writable else modes.READONLY
    return mlmd.MetadataStore(config)


@dataclasses.dataclass
class ExecutionInfo:
    node: str
    state: str
    seconds: float
    execution: metadata_store_pb2.Execution
    outputs: dict[str, list[metadata_store_pb2.Artifact]]


def runs(store: mlmd.MetadataStore) -> list[metadata_store_pb2.Context]:
    """Pipeline runs, oldest first."""
    return sorted(store.get_contexts_by_type(RUN_CONTEXT), key=lambda c: c.create_time_since_epoch)


def node_name(store: mlmd.MetadataStore, execution_id: int) -> str:
    for context in store.get_contexts_by_execution(execution_id):
        if context.type == NODE_CONTEXT or store.get_context_types_by_id([context.type_id])[0].name == NODE_CONTEXT:
            return context.name.split(".", 1)[-1]
    return "?"


def run_executions(store: mlmd.MetadataStore, run: metadata_store_pb2.Context) -> list[ExecutionInfo]:
    """Executions of one run in start order, with their output artifacts by key."""
    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.create_time_since_epoch)
    events = store.get_events_by_execution_ids([e.id for e in executions])
    artifact_ids = [e.artifact_id for e in events]
    artifacts = {a.id: a for a in store.get_artifacts_by_id(artifact_ids)} if artifact_ids else {}
    infos = []
    for execution in executions:
        outputs: dict[str, list] = {}
        for event in events:
            if event.execution_id == execution.id and event.type == metadata_store_pb2.Event.OUTPUT:
                key = event.path.steps[0].key if event.path.steps else "?"
                outputs.setdefault(key, []).append(artifacts[event.artifact_id])
        seconds = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000
        infos.append(
            ExecutionInfo(node_name(store, execution.id), STATES[execution.last_known_state], seconds, execution, outputs)
        )
    return infos


def custom(artifact: metadata_store_pb2.Artifact, key: str):
    """A custom property's value, whatever its type (None when absent)."""
    if key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    return getattr(value, value.WhichOneof("value"))


def event(kind, key: str) -> metadata_store_pb2.Event:
    """An event of `kind` (INPUT, OUTPUT) on channel `key`, as TFX records one: the key, then the
    index in the channel (for what this project records itself: a rollback, a monitor run)."""
    made = metadata_store_pb2.Event(type=kind)
    made.path.steps.add().key = key
    made.path.steps.add().index = 0
    return made


# -- inspection: artifacts, events and lineage (pipeline.inspect_mlmd, pipeline.report) ----------


def plain(value):
    """A property value as plain data: Struct custom properties (ExampleValidator's per-split
    `blessed`) become dicts, JSON-looking strings stay strings."""
    from google.protobuf import json_format, message

    if isinstance(value, message.Message):
        data = json_format.MessageToDict(value)
        return data.get("__value__", data) if isinstance(data, dict) else data
    return value


def properties(item) -> dict:
    """Properties and custom properties of an artifact or execution, as plain values."""
    values = {key: plain(getattr(v, v.WhichOneof("value"))) for key, v in item.properties.items() if v.WhichOneof("value")}
    for key, v in item.custom_properties.items():
        if v.WhichOneof("value"):
            values[key] = plain(getattr(v, v.WhichOneof("value")))
    return values


def artifact_type_names(store: mlmd.MetadataStore) -> dict[int, str]:
    return {t.id: t.name for t in store.get_artifact_types()}


def event_key(event: metadata_store_pb2.Event) -> str:
    return event.path.steps[0].key if event.path.steps else "?"


def producer(store: mlmd.MetadataStore, artifact_id: int) -> metadata_store_pb2.Execution | None:
    """The execution that output the artifact (None: imported or external)."""
    for event in store.get_events_by_artifact_ids([artifact_id]):
        if event.type == metadata_store_pb2.Event.OUTPUT:
            return store.get_executions_by_id([event.execution_id])[0]
    return None


def execution_inputs(store: mlmd.MetadataStore, execution_id: int) -> dict[str, list[metadata_store_pb2.Artifact]]:
    """Input artifacts of an execution by input key."""
    events = [e for e in store.get_events_by_execution_ids([execution_id]) if e.type == metadata_store_pb2.Event.INPUT]
    by_id = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])} if events else {}
    inputs: dict[str, list] = {}
    for event in events:
        inputs.setdefault(event_key(event), []).append(by_id[event.artifact_id])
    return inputs


# Which input to follow back from each artifact's producer: the model, then the examples.
LINEAGE_KEYS = ("model", "examples")


@dataclasses.dataclass
class LineageStep:
    artifact: metadata_store_pb2.Artifact
    type_name: str
    node: str | None  # the producing component; None: no producer (imported)
    other_inputs: dict[str, list[str]]  # inputs not followed: key -> URIs


def lineage(store: mlmd.MetadataStore, artifact: metadata_store_pb2.Artifact) -> list[LineageStep]:
    """From an artifact back to the input data: PushedModel <- Pusher <- Model <- Trainer <-
    transformed Examples <- Transform <- Examples <- ExampleGen (whose `source` is the file)."""
    types = artifact_type_names(store)
    steps, seen = [], set()
    current = artifact
    while current is not None and current.id not in seen:
        seen.add(current.id)
        execution = producer(store, current.id)
        if execution is None:
            steps.append(LineageStep(current, types[current.type_id], None, {}))
            break
        inputs = execution_inputs(store, execution.id)
        follow = next((k for k in LINEAGE_KEYS if inputs.get(k)), None)
        others = {k: [a.uri for a in v] for k, v in inputs.items() if k != follow}
        steps.append(LineageStep(current, types[current.type_id], node_name(store, execution.id), others))
        current = inputs[follow][0] if follow else None
    return steps


def pushed_models(store: mlmd.MetadataStore) -> list[metadata_store_pb2.Artifact]:
    """Every model the Pusher (or a rollback) deployed (custom property pushed == 1), oldest first."""
    pushed = [a for a in store.get_artifacts_by_type("PushedModel") if custom(a, PUSHED) == 1]
    return sorted(pushed, key=lambda a: a.create_time_since_epoch)


def run_of_execution(store: mlmd.MetadataStore, execution_id: int) -> str | None:
    for context in store.get_contexts_by_execution(execution_id):
        if store.get_context_types_by_id([context.type_id])[0].name == RUN_CONTEXT:
            return context.name
    return None
