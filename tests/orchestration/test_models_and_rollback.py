"""`make models` lists every pushed version with its evidence; `make rollback` serves an earlier
blessed one again as a new version, atomically, records it, and makes the next run compare with it.

A real ML Metadata store and real tiny SavedModels (tests/orchestration/pushed_store.py), the
real resolver strategies and the real ModelRepository; no pipeline run.
"""
from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from components import pusher, resolvers
from components.export import RAW_SIGNATURE, serving_versions
from pipeline import inspect_mlmd, mlmd, models, rollback
from serving.model_repository import ModelRepository
from tests.orchestration.pushed_store import PushedStore
from tests.window_models import FEATURE, OUTPUT

SCALES = (2.0, 3.0, 5.0)  # each run's model: forecast = sum(window) * scale


@pytest.fixture
def three_pushed(tmp_path):
    """Three runs on growing spans, each blessed and pushed: the third is served."""
    built = PushedStore(tmp_path / "output")
    for index, scale in enumerate(SCALES):
        built.run(f"/data/day-{index}.csv", spans=list(range(index + 2)), scale=scale, seed=index)
    return built


def files(folder: str) -> dict[str, bytes]:
    root = pathlib.Path(folder)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def forecast(loaded, window=(1.0, 2.0, 3.0)) -> float:
    out = loaded.signatures[RAW_SIGNATURE](**{FEATURE: np.asarray([window], np.float32)})
    return float(out[OUTPUT].numpy()[0, 0])


def resolved_baseline(store, strategy) -> int | None:
    """The model id the Evaluator's baseline resolver picks from every Model and ModelBlessing."""

    def wrapped(cls, type_name):
        found = []
        for artifact in store.get_artifacts_by_type(type_name):
            instance = cls()
            instance.set_mlmd_artifact(artifact)
            found.append(instance)
        return found

    inputs = {resolvers.MODEL: wrapped(standard_artifacts.Model, "Model"),
              resolvers.BLESSING: wrapped(standard_artifacts.ModelBlessing, "ModelBlessing")}  # fmt: skip
    if strategy is resolvers.LatestBlessedOtherModelStrategy:
        inputs[resolvers.CANDIDATE] = []
    picked = strategy().resolve_artifacts(store, inputs)[resolvers.MODEL]
    return picked[0].id if picked else None


def test_models_lists_every_pushed_version_with_its_evidence(tmp_path):
    built = PushedStore(tmp_path / "output")
    first = built.run("/data/day-0.csv", spans=[0, 1], scale=2.0, seed=0)
    second = built.run("/data/day-1.csv", spans=[0, 1, 2], scale=3.0, seed=1)
    report = models.collect(built.metadata_path, built.serving_dir, "timeseries")
    assert [v["version"] for v in report["versions"]] == [first.version, second.version]  # oldest first
    assert report["served"] == second.version
    assert [v["served"] for v in report["versions"]] == [False, True]
    for entry, run in zip(report["versions"], (first, second), strict=True):
        assert entry["run"] == run.name and entry["model"] == run.model.uri and entry["blessed"]
        assert entry["data"]["source"] == mlmd.custom(run.examples, "source")
        assert entry["data"]["spans"] == json.loads(mlmd.custom(run.examples, "spans"))
        assert entry["data"]["span"] == entry["data"]["spans"][-1]
        verdicts = {name: v["verdict"] for name, v in entry["gate"]["gate"].items()}
        assert verdicts == {name: v["verdict"] for name, v in run.gate["gate"].items()}  # the gate's own
        assert entry["gate"]["blessed"] and entry["rollback_to"] is None and entry["revoked"] is None
    text = models.render(report)
    assert f"version {second.version}" in text and "<- SERVED" in text and "spans 0..2 (3 spans)" in text
    assert "better than the persistence challenger" in text


def test_models_cli_prints_json(three_pushed, capsys):
    output_dir = str(pathlib.Path(three_pushed.task_dir).parent)
    assert models.main(["--task", "timeseries", "--output-dir", output_dir, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [v["version"] for v in report["versions"]] == [r.version for r in three_pushed.runs]


def test_rollback_serves_the_earlier_version_as_a_new_one_and_records_it(three_pushed):
    first, second, third = three_pushed.runs
    repository = ModelRepository(three_pushed.serving_dir)
    assert repository.refresh() and repository.current.version == third.version
    assert forecast(repository.current) == pytest.approx(6.0 * SCALES[2])
    store = mlmd.open_store(three_pushed.metadata_path)
    assert resolved_baseline(store, resolvers.LatestBlessedOtherModelStrategy) == third.model.id

    result = rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)  # default: the one before

    assert result.rollback_to.number == second.version and result.rollback_of == third.version
    assert result.version > third.version
    names = os.listdir(three_pushed.serving_dir)
    assert not [n for n in names if n.startswith(pusher.STAGING_PREFIX)]
    assert serving_versions(three_pushed.serving_dir) == [first.version, second.version, third.version, result.version]
    new_dir = os.path.join(three_pushed.serving_dir, str(result.version))
    assert files(new_dir) == files(os.path.join(three_pushed.serving_dir, str(second.version)))  # byte-identical
    # The server swaps to it: the second model's forecasts again.
    assert repository.refresh() and repository.current.version == result.version
    assert forecast(repository.current) == pytest.approx(6.0 * SCALES[1])

    store = mlmd.open_store(three_pushed.metadata_path)
    execution = store.get_executions_by_id([result.execution_id])[0]
    assert store.get_execution_types_by_id([execution.type_id])[0].name == mlmd.ROLLBACK
    inputs = mlmd.execution_inputs(store, execution.id)
    assert [a.id for a in inputs["model"]] == [second.model.id]
    assert [a.id for a in inputs["pushed_model"]] == [second.pushed.id]
    pushed = mlmd.pushed_models(store)[-1]
    assert pushed.id == result.pushed_model_id and mlmd.producer(store, pushed.id).id == execution.id
    assert mlmd.custom(pushed, "pushed") == 1 and mlmd.custom(pushed, "pushed_version") == str(result.version)
    assert mlmd.custom(pushed, "pushed_destination") == new_dir
    assert mlmd.custom(pushed, mlmd.ROLLBACK_OF) == str(third.version)
    assert mlmd.custom(pushed, mlmd.ROLLBACK_TO) == str(second.version)
    # The blessing of the model after it is revoked, and says by what; the earlier ones stand.
    blessings = {mlmd.custom(b, resolvers.CURRENT_MODEL_ID): b for b in store.get_artifacts_by_type("ModelBlessing")}
    assert mlmd.custom(blessings[third.model.id], resolvers.BLESSED) == 0
    revoked = json.loads(mlmd.custom(blessings[third.model.id], mlmd.REVOKED_BY_ROLLBACK))
    assert revoked["to_version"] == second.version and revoked["served_as"] == result.version and revoked["at"]
    assert [mlmd.custom(blessings[r.model.id], resolvers.BLESSED) for r in (first, second)] == [1, 1]
    assert result.revoked == [third.model.id]


def test_after_a_rollback_both_resolvers_compare_with_the_served_model(three_pushed):
    _, second, third = three_pushed.runs
    store = mlmd.open_store(three_pushed.metadata_path)
    strategies = (resolvers.LatestBlessedOtherModelStrategy, LatestBlessedModelStrategy)
    assert [resolved_baseline(store, s) for s in strategies] == [third.model.id] * 2
    rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir, second.version)
    store = mlmd.open_store(three_pushed.metadata_path)
    assert [resolved_baseline(store, s) for s in strategies] == [second.model.id] * 2


def test_a_second_rollback_goes_further_back_and_an_explicit_one_restores_a_revoked_blessing(three_pushed):
    first, second, third = three_pushed.runs
    rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)  # to the second
    again = rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)  # skips the served model, the revoked one
    assert again.rollback_to.number == first.version and sorted(again.revoked) == [second.model.id]
    forward = rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir, third.version)
    assert forward.restored == [third.model.id]
    store = mlmd.open_store(three_pushed.metadata_path)
    assert resolved_baseline(store, resolvers.LatestBlessedOtherModelStrategy) == third.model.id
    versions = models.pushed_versions(store)
    assert [v.rollback_to for v in versions] == [None, None, None, second.version, first.version, third.version]


def test_inspect_lists_the_rollback(three_pushed):
    _, second, third = three_pushed.runs
    result = rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)
    report = inspect_mlmd.collect(three_pushed.metadata_path, task="timeseries")
    assert report["pushed_models"][-1]["rollback_to"] == str(second.version)
    decision = report["evaluation"]  # of the latest run, whose model's blessing the rollback revoked
    assert decision["blessed"] and decision["why"] == "every paired rule passed (no deployed model compared: first blessed model)"
    assert decision["revoked_by_rollback"]["to_version"] == second.version  # what the gate decided, then what happened
    text = inspect_mlmd.render(report)
    assert f"blessing revoked {decision['revoked_by_rollback']['at']} by the rollback to version {second.version}" in text
    assert f"version {result.version} (rollback to {second.version}, replacing version {third.version})" in text
    listed = models.render(models.collect(three_pushed.metadata_path, three_pushed.serving_dir, "timeseries"))
    assert f"version {result.version} (rollback to {second.version}" in listed
    assert "<- SERVED" in listed.split(f"version {result.version}")[1].splitlines()[0]
    third_entry = listed.split(f"version {third.version}")[1]
    assert "gate: BLESSED" in third_entry.split("\n  version")[0] and "blessing revoked" in third_entry.split("\n  version")[0]


def test_a_rollback_killed_mid_copy_leaves_no_version_and_no_record(three_pushed, monkeypatch):
    third = three_pushed.runs[-1]

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed while copying saved_model.pb")

    monkeypatch.setattr(pusher.io_utils, "copy_file", killed)
    with pytest.raises(KeyboardInterrupt):
        rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)
    assert serving_versions(three_pushed.serving_dir)[-1] == third.version  # readers see no partial version
    assert any(n.startswith(pusher.STAGING_PREFIX) for n in os.listdir(three_pushed.serving_dir))
    store = mlmd.open_store(three_pushed.metadata_path)
    assert not [e for e in store.get_executions() if store.get_execution_types_by_id([e.type_id])[0].name == mlmd.ROLLBACK]
    assert all(mlmd.custom(b, resolvers.BLESSED) == 1 for b in store.get_artifacts_by_type("ModelBlessing"))


def test_refusals_say_why(three_pushed, tmp_path):
    first, _, third = three_pushed.runs
    path, serving = three_pushed.metadata_path, three_pushed.serving_dir
    with pytest.raises(rollback.RollbackRefused, match=r"unknown version 123: pushed versions are \d+, \d+, \d+"):
        rollback.rollback(path, serving, 123)
    with pytest.raises(rollback.RollbackRefused, match="holds the model served now"):
        rollback.rollback(path, serving, third.version)
    stray = third.version + 100  # a folder no push of this pipeline wrote
    pusher.copy_model(first.model.uri, os.path.join(serving, str(stray)))
    with pytest.raises(rollback.RollbackRefused, match=f"version {stray} is under .* but ML Metadata records no push of it"):
        rollback.rollback(path, serving, stray)
    # Only one blessed push, and a run whose model was not blessed (so not pushed): nothing to go back to.
    alone = PushedStore(tmp_path / "alone")
    alone.run("/data/a.csv", spans=None, scale=2.0)
    alone.run("/data/b.csv", spans=None, scale=3.0, blessed=False, seed=1)
    with pytest.raises(rollback.RollbackRefused, match="nothing to roll back to"):
        rollback.rollback(alone.metadata_path, alone.serving_dir)
    assert len(serving_versions(alone.serving_dir)) == 1  # nothing pushed by a refusal


def test_rollback_cli_refuses_with_a_message(three_pushed, capsys):
    output_dir = str(pathlib.Path(three_pushed.task_dir).parent)
    assert rollback.main(["--task", "timeseries", "--output-dir", output_dir, "--version", "7"]) == 1
    assert "rollback: unknown version 7" in capsys.readouterr().err
    assert rollback.main(["--task", "timeseries", "--output-dir", output_dir, "--version", "latest"]) == 2
    assert "VERSION must be a version number" in capsys.readouterr().err
    assert rollback.main(["--task", "timeseries", "--output-dir", output_dir]) == 0
    assert f"the files of version {three_pushed.runs[1].version}" in capsys.readouterr().out


def test_a_version_whose_blessing_is_not_standing_is_refused(three_pushed):
    first = three_pushed.runs[0]
    store = mlmd.open_store(three_pushed.metadata_path, writable=True)
    blessing = store.get_artifacts_by_id([first.blessing.id])[0]
    blessing.custom_properties[resolvers.BLESSED].int_value = 0  # not by a rollback: no `revoked_by_rollback`
    store.put_artifacts([blessing])
    with pytest.raises(rollback.RollbackRefused, match=f"version {first.version} was never blessed"):
        rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir, first.version)


def test_a_running_server_switches_to_the_rollback_with_no_failed_request(three_pushed):
    """Requests in a loop while the rollback is pushed and the server's watcher (0.1 s) swaps to it."""
    import httpx

    from serving.server import Server

    server = Server("tiny", three_pushed.serving_dir, port=0, poll_seconds=0.1).start()
    url = f"http://127.0.0.1:{server.port}/v1/models/tiny:predict"
    body = {"signature_name": RAW_SIGNATURE, "instances": [{FEATURE: [1.0, 2.0, 3.0]}]}
    try:
        answers = [httpx.post(url, json=body)]
        result = rollback.rollback(three_pushed.metadata_path, three_pushed.serving_dir)
        for _ in range(200):  # up to ~20 s on a busy machine
            answers.append(httpx.post(url, json=body))
            if server.repository.current.version == result.version and len(answers) > 3:
                answers.append(httpx.post(url, json=body))
                break
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200] * len(answers)
    forecasts = [a.json()["predictions"][0][0] for a in answers]  # one output: TF Serving gives its values
    assert forecasts[0] == pytest.approx(6.0 * SCALES[2]) and forecasts[-1] == pytest.approx(6.0 * SCALES[1])
