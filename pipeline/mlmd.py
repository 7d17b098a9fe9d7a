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


class StoreMissing(FileNotFoundError):
    pass


def open_store(path: str) -> mlmd.MetadataStore:
    if not os.path.exists(path):
        raise StoreMissing(f"no ML Metadata store at {path}: run the pipeline first (make run-local)")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
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
