"""The Pusher's write is atomic; a killed run's unfinished steps are marked failed; one run at a time."""
from __future__ import annotations

import os

import pytest
from ml_metadata.proto import metadata_store_pb2

from components import pusher
from components.export import serving_versions
from pipeline import mlmd, recovery
from serving import serving_model


@pytest.fixture
def model_dir(tmp_path):
    model = tmp_path / "model"
    (model / "variables").mkdir(parents=True)
    (model / "variables" / "variables.index").write_bytes(b"index")
    (model / "saved_model.pb").write_bytes(b"graph")
    return str(model)


def test_a_push_is_a_complete_numbered_version(model_dir, tmp_path):
    serving = str(tmp_path / "serving")
    version, path = pusher.push_atomically(model_dir, serving)
    assert sorted(os.listdir(serving)) == [version]
    assert sorted(os.listdir(path)) == ["saved_model.pb", "variables"]
    again, _ = pusher.push_atomically(model_dir, serving)
    assert int(again) > int(version)  # the same second still gives a newer version
    assert serving_model.latest_model_dir(serving) == os.path.join(serving, again)


def test_a_push_killed_mid_copy_leaves_no_version(model_dir, tmp_path, monkeypatch):
    serving = str(tmp_path / "serving")
    first, _ = pusher.push_atomically(model_dir, serving)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed while copying saved_model.pb")

    monkeypatch.setattr(pusher.io_utils, "copy_file", killed)
    with pytest.raises(KeyboardInterrupt):
        pusher.push_atomically(model_dir, serving)
    names = os.listdir(serving)
    assert [n for n in names if n.isdigit()] == [first]  # readers still see only the complete one
    assert any(n.startswith(pusher.STAGING_PREFIX) for n in names)
    assert serving_versions(serving) == [int(first)]
    monkeypatch.undo()
    second, _ = pusher.push_atomically(model_dir, serving)  # the next push clears the leftover
    assert sorted(os.listdir(serving)) == sorted([first, second])


def test_one_run_at_a_time(tmp_path):
    with recovery.RunLock(str(tmp_path)):
        with pytest.raises(recovery.RunInProgress, match="another run of this task is in progress"):
            with recovery.RunLock(str(tmp_path)):
                pass
    with recovery.RunLock(str(tmp_path)):  # released on exit
        pass


def test_unfinished_executions_are_marked_failed(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    import ml_metadata

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    store = ml_metadata.MetadataStore(config)
    type_id = store.put_execution_type(metadata_store_pb2.ExecutionType(name="Trainer"))
    states = [metadata_store_pb2.Execution.RUNNING, metadata_store_pb2.Execution.COMPLETE]
    ids = store.put_executions([metadata_store_pb2.Execution(type_id=type_id, last_known_state=s) for s in states])
    contexts = []  # as TFX records them: the node and the pipeline run
    for kind, name in ((mlmd.NODE_CONTEXT, "transformers-timeseries.Trainer"), (mlmd.RUN_CONTEXT, "run-1")):
        context_type = store.put_context_type(metadata_store_pb2.ContextType(name=kind))
        contexts += store.put_contexts([metadata_store_pb2.Context(type_id=context_type, name=name)])
    store.put_attributions_and_associations(
        [], [metadata_store_pb2.Association(execution_id=i, context_id=c) for i in ids for c in contexts]
    )
    assert recovery.fail_interrupted(path) == ["Trainer (run run-1)"]
    running, complete = mlmd.open_store(path).get_executions_by_id(ids)
    assert running.last_known_state == metadata_store_pb2.Execution.FAILED
    assert running.custom_properties[recovery.FAILURE_PROPERTY].string_value == recovery.INTERRUPTED
    assert complete.last_known_state == metadata_store_pb2.Execution.COMPLETE
    assert recovery.fail_interrupted(path) == []  # nothing left to mark
    assert recovery.fail_interrupted(str(tmp_path / "none.sqlite")) == []
