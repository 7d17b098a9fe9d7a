"""Serve an earlier blessed model again, atomically, and make the next run compare with it.

    python -m pipeline.rollback --task timeseries [--output-dir output] [--version VERSION]

Default VERSION: the newest blessed version pushed before the one served whose model is not
the served one (`make models` lists them). The server and `make predict` load the newest
numeric folder under the serving directory (serving/model_repository.py), so going back is a
push: the chosen version's files are copied again, as a NEW, higher version, with the Pusher's
atomic write (components/pusher.push_atomically: a staging name, then a rename), and a running
server swaps to it without failing a request. The old folders stay: nothing served is deleted.

ML Metadata records it in one transaction: a "Rollback" execution whose inputs are the model,
its blessing and the PushedModel re-pushed, and whose output is a PushedModel with the Pusher's
custom properties (`pushed`, `pushed_version`, `pushed_destination`) plus `rollback_of` (the
version replaced) and `rollback_to` (the version re-pushed), so `make inspect` and `make
models` list it. The Evaluator's baseline is the latest blessed model by its resolver
(components/resolvers.py, and TFX's LatestBlessedModelStrategy remotely): so the blessing of
every model newer than the one restored (pushed after it, or blessed and never pushed) is
revoked (`blessed` = 0, `revoked_by_rollback` says when and to which version), and the next
run compares its candidate with the model actually served. Going to a version whose blessing
an earlier rollback revoked restores that blessing (`restored_by_rollback`).

Holds the task's run lock (pipeline/recovery.py): no pipeline run writes the store meanwhile.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2

import tasks
from components import pusher
from components.resolvers import BLESSED, CURRENT_MODEL_ID
from pipeline import inspect_mlmd, mlmd, models, recovery

MODEL, BLESSING, PUSHED_MODEL = "model", "model_blessing", "pushed_model"  # the Pusher's input and output keys


class RollbackRefused(ValueError):
    """The rollback asked for cannot be done; the message says why and what can."""


class RecordFailed(RuntimeError):
    """The files were pushed (and are served) but ML Metadata was not updated."""


@dataclasses.dataclass
class Result:
    version: int  # the new version, now served
    rollback_to: models.Version  # the version whose files it holds
    rollback_of: int | None  # the version it replaces
    revoked: list[int]  # ids of the models whose blessing was revoked
    restored: list[int]  # ids of the models whose blessing was restored
    execution_id: int
    pushed_model_id: int


def listed(versions: list[models.Version]) -> str:
    return ", ".join(str(v.number) for v in versions) or "none"


def choose(versions: list[models.Version], served: int | None, requested: int | None, serving_dir: str) -> models.Version:
    """The version to go back to, or RollbackRefused with the reason."""
    if not versions:
        raise RollbackRefused("nothing to roll back to: ML Metadata records no pushed model (run the pipeline first)")
    served_model = next((v.model.id for v in reversed(versions) if v.number == served), None)
    if requested is None:
        if served is None:
            raise RollbackRefused(f"nothing is served under {serving_dir}: give VERSION= (pushed: {listed(versions)})")
        earlier = [v for v in versions if v.number < served and v.model.id != served_model and v.blessed]
        if not earlier:
            raise RollbackRefused(
                f"nothing to roll back to: no blessed version of another model was pushed before version {served} "
                f"(pushed: {listed(versions)}; `make models` shows each one's blessing)"
            )
        return earlier[-1]
    target = next((v for v in versions if v.number == requested), None)
    if target is None:
        if requested in models.serving_versions(serving_dir):
            raise RollbackRefused(
                f"version {requested} is under {serving_dir} but ML Metadata records no push of it: only a version "
                f"this pipeline blessed and pushed can be rolled back to (pushed: {listed(versions)})"
            )
        raise RollbackRefused(f"unknown version {requested}: pushed versions are {listed(versions)}")
    if target.model.id == served_model:
        raise RollbackRefused(f"version {requested} holds the model served now (version {served}): nothing to roll back")
    if not target.blessed and target.revoked is None:
        raise RollbackRefused(f"version {requested} was never blessed: its model cannot be served again")
    return target


def files_of(target: models.Version, serving_dir: str) -> str:
    """A complete copy of the version's files: its serving folder, else the Pusher's archive copy."""
    for path in (os.path.join(serving_dir, str(target.number)), target.pushed.uri):
        if path and os.path.exists(os.path.join(path, "saved_model.pb")):
            return path
    raise RollbackRefused(
        f"the files of version {target.number} are gone (neither {serving_dir}/{target.number} nor "
        f"{target.pushed.uri} holds a saved_model.pb)"
    )


def blessing_changes(store, target: models.Version, note: str) -> tuple[list, list[int], list[int]]:
    """(ModelBlessings to write, model ids revoked, model ids restored): every blessed model newer
    than the target's loses its blessing (both resolvers take the blessed model of highest id);
    the target's blessings that a rollback revoked are restored."""
    changed, revoked, restored = [], [], []
    for blessing in store.get_artifacts_by_type("ModelBlessing"):
        model_id, blessed = mlmd.custom(blessing, CURRENT_MODEL_ID), mlmd.custom(blessing, BLESSED)
        if model_id is None:
            continue
        if int(model_id) > target.model.id and blessed == 1:
            blessing.custom_properties[BLESSED].int_value = 0
            blessing.custom_properties[mlmd.REVOKED_BY_ROLLBACK].string_value = note
            changed.append(blessing)
            revoked.append(int(model_id))
        elif int(model_id) == target.model.id and blessed != 1 and mlmd.REVOKED_BY_ROLLBACK in blessing.custom_properties:
            blessing.custom_properties[BLESSED].int_value = 1
            blessing.custom_properties[mlmd.RESTORED_BY_ROLLBACK].string_value = note
            del blessing.custom_properties[mlmd.REVOKED_BY_ROLLBACK]
            changed.append(blessing)
            restored.append(int(model_id))
    return changed, sorted(set(revoked)), sorted(set(restored))


def node_context(store, target: models.Version) -> metadata_store_pb2.Context:
    """The pipeline's node context "<pipeline>.Rollback" (TFX names each node's so): `make inspect`
    and the lineage name the rollback's execution by it, and MLMD lists an execution's contexts."""
    pusher_context = next((
        c for c in store.get_contexts_by_execution(target.pusher.id)
        if store.get_context_types_by_id([c.type_id])[0].name == mlmd.NODE_CONTEXT
    ), None)  # fmt: skip
    pipeline = f"{pusher_context.name.split('.', 1)[0]}." if pusher_context else ""
    name = f"{pipeline}{mlmd.ROLLBACK}"
    found = store.get_context_by_type_and_name(mlmd.NODE_CONTEXT, name)
    if found:
        return found
    try:
        type_id = store.get_context_type(mlmd.NODE_CONTEXT).id
    except errors.NotFoundError:  # a store no TFX run wrote
        type_id = store.put_context_type(metadata_store_pb2.ContextType(name=mlmd.NODE_CONTEXT))
    return metadata_store_pb2.Context(type_id=type_id, name=name)


def record(store, target: models.Version, version: str, destination: str, replaced: int | None) -> Result:
    """The rollback in ML Metadata, in one transaction (see the module docstring)."""
    note = json.dumps({"at": inspect_mlmd.when(int(time.time() * 1000)), "to_version": target.number, "served_as": int(version)})
    changed, revoked, restored = blessing_changes(store, target, note)
    properties = {mlmd.PUSHED_VERSION: version, mlmd.PUSHED_DESTINATION: destination, mlmd.ROLLBACK_TO: str(target.number),
                  mlmd.ROLLBACK_OF: str(replaced) if replaced is not None else ""}  # fmt: skip
    execution = metadata_store_pb2.Execution(
        type_id=store.put_execution_type(metadata_store_pb2.ExecutionType(name=mlmd.ROLLBACK)),
        last_known_state=metadata_store_pb2.Execution.COMPLETE,
    )
    pushed = metadata_store_pb2.Artifact(
        type_id=store.get_artifact_type("PushedModel").id, uri=destination, state=metadata_store_pb2.Artifact.LIVE
    )
    pushed.custom_properties[mlmd.PUSHED].int_value = 1
    for key, value in properties.items():
        execution.custom_properties[key].string_value = value
        pushed.custom_properties[key].string_value = value
    changed_by_id = {b.id: b for b in changed}
    inputs = [(target.model, MODEL), (target.blessing, BLESSING), (target.pushed, PUSHED_MODEL)]
    pairs = [(changed_by_id.pop(a.id, a), mlmd.event(metadata_store_pb2.Event.INPUT, key)) for a, key in inputs if a is not None]
    output_index = len(pairs)
    pairs.append((pushed, mlmd.event(metadata_store_pb2.Event.OUTPUT, PUSHED_MODEL)))
    pairs += [(blessing, None) for blessing in changed_by_id.values()]  # updated, not linked to the execution
    execution_id, artifact_ids, _ = store.put_execution(execution, pairs, [node_context(store, target)], reuse_context_if_already_exist=True)
    return Result(int(version), target, replaced, revoked, restored, execution_id, artifact_ids[output_index])


def rollback(metadata_path: str, serving_dir: str, requested: int | None = None) -> Result:
    """Serve `requested` (default: see choose) again as a new version, and record it."""
    store = mlmd.open_store(metadata_path, writable=True)
    versions = models.pushed_versions(store)
    served = models.served_version(serving_dir)
    target = choose(versions, served, requested, serving_dir)
    source = files_of(target, serving_dir)
    version, destination = pusher.push_atomically(source, serving_dir)
    try:
        return record(store, target, version, destination, served)
    except Exception as error:  # noqa: BLE001  (whatever failed, the user must know what is served)
        raise RecordFailed(
            f"version {version} (the files of version {target.number}) is served, but recording the rollback in "
            f"ML Metadata failed ({error}): the next run's baseline is unchanged; roll back again to record it"
        ) from error


def summary(result: Result) -> str:
    replaced = f" in place of version {result.rollback_of}" if result.rollback_of is not None else ""
    lines = [f"Rolled back: version {result.version} (the files of version {result.rollback_to.number}) is served{replaced}."]
    if result.revoked:
        lines.append(f"Revoked the blessings of models {result.revoked}: the next run compares its candidate with "
                     f"version {result.rollback_to.number}'s model.")  # fmt: skip
    if result.restored:
        lines.append(f"Restored the blessing of model {result.restored[0]}, revoked by an earlier rollback.")
    lines.append(f"Recorded in ML Metadata: Rollback execution {result.execution_id}, PushedModel {result.pushed_model_id}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR (default: output/)")
    parser.add_argument("--version", help="the pushed version to serve again (default: the blessed one before the served one)")
    args = parser.parse_args(argv)
    if args.version is not None and not args.version.isdigit():
        print(f"rollback: VERSION must be a version number such as 1796552249, not '{args.version}'", file=sys.stderr)
        return 2
    try:
        metadata_path, serving_dir = models.paths(args.task, args.output_dir)
        with recovery.RunLock(os.path.dirname(metadata_path)):
            result = rollback(metadata_path, serving_dir, int(args.version) if args.version else None)
    except (RollbackRefused, RecordFailed, mlmd.StoreMissing, recovery.RunInProgress) as error:
        print(f"rollback: {error}", file=sys.stderr)
        return 1
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
