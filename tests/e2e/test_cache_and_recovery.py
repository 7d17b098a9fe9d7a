"""End to end, in a copy of the project: crash and resume, a code edit, an incompatible deployed model.

Four runs of `python -m pipeline.run_local` share one output directory and one copy
of the source, in order:
1. killed with SIGKILL on the runner process in the middle of the Trainer;
2. rerun: it completes, reusing the cached upstream steps, records the killed
   Trainer as FAILED and pushes;
3. after an edit to `models/patch_forecaster.py` in the copy: the Tuner and Trainer
   rerun while the ExampleGen and Transform stay cached;
4. with `lookback` 24 (and a schema that says so): the deployed model, trained on
   48-step windows, cannot read the new examples, and the run evaluates without it
   and says so, instead of crashing in the Evaluator.
Each run's wall time is printed (`pytest -s`).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from components.evaluator import BASELINE_SKIPPED
from data.config import REPO_ROOT
from pipeline import fingerprint, mlmd, recovery
from pipeline.config import load_config
from tests.e2e.tiny import SMALL_BUDGET, write_tiny_csv

pytestmark = pytest.mark.e2e

PACKAGES = fingerprint.PROJECT_PACKAGES  # the whole project, as a checkout has it
RUN_TIMEOUT = 900  # seconds; a hung run fails the test instead of the CI


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("recovery")
    source = root / "checkout"
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    csv, _ = write_tiny_csv(root)
    output = root / "output"
    return {"root": root, "source": source, "csv": csv, "output": str(output),
            "config": load_config("timeseries", output_dir=str(output)), "timings": {}}  # fmt: skip


def command(project, *overrides: str) -> list[str]:
    args = [sys.executable, "-m", "pipeline.run_local", "--task", "timeseries", "--data", project["csv"],
            "--output-dir", project["output"]]  # fmt: skip
    for item in [*SMALL_BUDGET, *overrides]:
        args += ["--set", item]
    return args


def start(project, *overrides: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(project["source"])}
    return subprocess.Popen(
        command(project, *overrides), cwd=project["source"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def run(project, name: str, *overrides: str) -> str:
    started = time.perf_counter()
    process = start(project, *overrides)
    timer = threading.Timer(RUN_TIMEOUT, lambda: os.killpg(process.pid, signal.SIGKILL))
    timer.start()
    out, _ = process.communicate()
    timer.cancel()
    project["timings"][name] = time.perf_counter() - started
    print(f"{name}: {project['timings'][name]:.1f}s")
    assert process.returncode == 0, out[-3000:]
    return out


def last_runs(project, count: int) -> list[dict[str, mlmd.ExecutionInfo]]:
    store = mlmd.open_store(project["config"].metadata_path)
    return [{e.node: e for e in mlmd.run_executions(store, r)} for r in mlmd.runs(store)[-count:]]


def serving_entries(project) -> list[str]:
    serving = project["config"].serving_dir
    return sorted(os.listdir(serving)) if os.path.isdir(serving) else []


@pytest.fixture(scope="module")
def killed(project):
    """Run 1, killed once its Trainer has been running for a few seconds."""
    started = time.perf_counter()
    process = start(project)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.rstrip().endswith("] Trainer ..."):
            break
        if time.perf_counter() - started > RUN_TIMEOUT:
            break
    assert any(line.rstrip().endswith("] Trainer ...") for line in lines), "".join(lines[-50:])
    time.sleep(3)  # inside the Trainer (it takes well over ten seconds)
    os.kill(process.pid, signal.SIGKILL)  # the runner process, as the OOM killer would
    process.wait()
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)  # its Beam workers, if any
    project["timings"]["killed in the Trainer after"] = time.perf_counter() - started
    print(f"killed in the Trainer after {project['timings']['killed in the Trainer after']:.1f}s")
    assert process.returncode == -signal.SIGKILL
    return serving_entries(project)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture(scope="module")
def resumed(project, killed):
    out = run(project, "resumed run")
    return out, last_runs(project, 2)


def test_the_killed_run_pushed_nothing(killed):
    assert killed == []  # no version, and no half-written one


def test_the_rerun_completes_reusing_the_upstream_steps(resumed):
    _, (killed_run, rerun) = resumed
    assert "Pusher" not in killed_run and "Evaluator" not in killed_run
    for node in ("ExampleGen", "StatisticsGen", "CuratedSchemaGen", "Transform", "Tuner"):
        assert rerun[node].state == "CACHED", node
    assert rerun["Trainer"].state == "COMPLETE" and rerun["Pusher"].state == "COMPLETE"


def test_the_killed_step_is_recorded_as_failed(resumed):
    out, (killed_run, _) = resumed
    trainer = killed_run["Trainer"].execution
    assert killed_run["Trainer"].state == "FAILED"
    assert trainer.custom_properties[recovery.FAILURE_PROPERTY].string_value == recovery.INTERRUPTED
    assert "Marked FAILED in ML Metadata: Trainer" in out


def test_the_serving_directory_holds_only_complete_versions(project, resumed):
    _, (_, rerun) = resumed
    assert mlmd.custom(rerun["Pusher"].outputs["pushed_model"][0], "pushed") == 1  # this slice is blessed
    entries = serving_entries(project)
    assert entries and all(name.isdigit() for name in entries)
    for name in entries:
        assert os.path.isfile(os.path.join(project["config"].serving_dir, name, "saved_model.pb"))


@pytest.fixture(scope="module")
def after_model_edit(project, resumed):
    with open(project["source"] / "models" / "patch_forecaster.py", "a") as handle:
        handle.write("\n# an edit that changes no behaviour, only the file\n")
    run(project, "run after a model edit")
    return last_runs(project, 1)[0]


def test_editing_a_model_file_reruns_training_and_keeps_the_examples(after_model_edit):
    for node in ("ExampleGen", "StatisticsGen", "CuratedSchemaGen", "Transform"):
        assert after_model_edit[node].state == "CACHED", node
    assert after_model_edit["Tuner"].state == "COMPLETE"
    assert after_model_edit["Trainer"].state == "COMPLETE"


@pytest.fixture(scope="module")
def shorter_lookback(project, after_model_edit):
    schema = project["root"] / "schema_lookback24.pbtxt"
    text = (REPO_ROOT / "tasks" / "timeseries" / "schema.pbtxt").read_text()
    assert "size: 48" in text
    schema.write_text(text.replace("size: 48", "size: 24"))
    out = run(project, "run with lookback 24", "series.lookback=24", "series.season=24", f"schema={schema}")
    return out, last_runs(project, 1)[0]


def test_a_deployed_model_that_cannot_read_the_examples_is_skipped_and_said(shorter_lookback):
    out, last = shorter_lookback
    assert last["Evaluator"].state == "COMPLETE"
    skipped = mlmd.custom(last["Evaluator"].outputs["blessing"][0], BASELINE_SKIPPED)
    assert skipped and "cannot read this run's examples" in skipped
    assert "was not compared" in out  # the summary says it
    evaluation = last["Evaluator"].outputs["evaluation"][0]
    assert mlmd.custom(evaluation, BASELINE_SKIPPED) == skipped
