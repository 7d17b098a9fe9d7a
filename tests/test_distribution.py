"""Reading TF_CONFIG: how many workers train, which one is the chief, where each one writes."""
import json
import pathlib

import pytest

from components import distribution


def tf_config(cluster: dict, task_type: str, index: int) -> dict:
    return {distribution.TF_CONFIG: json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


def test_no_tf_config_is_one_chief_worker_writing_in_place():
    here = distribution.cluster({})
    assert (here.workers, here.multi_worker, here.is_chief) == (1, False, True)
    assert distribution.write_path("/m/Format-Serving", here) == "/m/Format-Serving"


@pytest.mark.parametrize(("task_type", "index", "chief"), [("chief", 0, True), ("worker", 0, False), ("worker", 1, False)])
def test_vertex_cluster_counts_chief_and_workers_and_only_the_chief_writes_in_place(task_type, index, chief):
    """Vertex names pool 0 `chief` and pool 1 `worker`: three processes here."""
    here = distribution.cluster(tf_config({"chief": ["a:1"], "worker": ["b:1", "c:1"]}, task_type, index))
    assert (here.workers, here.multi_worker, here.is_chief) == (3, True, chief)
    written = distribution.write_path("/m/Format-Serving", here)
    assert written == ("/m/Format-Serving" if chief else f"/m/{distribution.TEMP_PREFIX}{index}/Format-Serving")


def test_without_a_chief_task_worker_zero_is_the_chief():
    workers = {"worker": ["a:1", "b:1"]}
    assert distribution.cluster(tf_config(workers, "worker", 0)).is_chief
    assert not distribution.cluster(tf_config(workers, "worker", 1)).is_chief


def test_a_one_worker_cluster_stays_single_process():
    assert not distribution.cluster(tf_config({"worker": ["a:1"]}, "worker", 0)).multi_worker


def test_a_worker_saves_in_a_temporary_folder_it_removes_then_waits_for_the_chiefs(tmp_path, monkeypatch):
    monkeypatch.setenv(distribution.TF_CONFIG, tf_config({"worker": ["a:1", "b:1"]}, "worker", 1)[distribution.TF_CONFIG])
    export_dir = tmp_path / "model" / "Format-Serving"
    export_dir.mkdir(parents=True)  # the chief's, written meanwhile
    with distribution.written(str(export_dir)) as target:
        assert target != str(export_dir)
        (pathlib.Path(target)).mkdir(parents=True)
        (pathlib.Path(target) / "saved_model.pb").write_bytes(b"worker copy")
    assert not (tmp_path / "model" / f"{distribution.TEMP_PREFIX}1").exists()
    assert list(export_dir.iterdir()) == []  # the chief's folder untouched
    with pytest.raises(TimeoutError, match="chief did not write"):
        distribution.wait_for_chief(str(tmp_path / "never"), seconds=0.6)
