"""End to end: the time-series pipeline with its Beam components on Beam's PortableRunner.

`beam.runner=portable` (pipeline/profiles/local.yaml) is the path Flink, Spark and Dataflow
Runner v2 take: `make run-local`'s entry point starts a local job service and an external
worker pool (pipeline/portable.py), every Beam job of the run (StatisticsGen, Transform,
the Evaluator) is submitted to the job service and runs in SDK worker processes the pool
starts, and both services are stopped after the run. ExampleGen and ExampleValidator run
no Beam job in this pipeline (a Python component; TFX 1.16's validator reads the
statistics in process), but they run in the same pipeline and must complete too. The run is
the shared user run (`tests/e2e/user_run.py`), which the inspect and report tests read too.
"""
from __future__ import annotations

import pathlib
import re

import pytest

from pipeline import mlmd, portable, run_local
from pipeline.config import load_config

pytestmark = pytest.mark.e2e

BEAM_JOBS = ("StatisticsGen", "Transform", "Evaluator")  # each runs one Beam job
COMPLETED = ("ExampleGen", "StatisticsGen", "ExampleValidator", "Transform", "Evaluator")
ADDRESS = re.compile(r"job service (\S+), worker pool (\S+?)[;)]")  # run_local's `Beam:` line


@pytest.fixture(scope="module")
def portable_run(user_run):
    config = load_config("timeseries", output_dir=str(user_run))  # for its paths: the store, the logs
    store = mlmd.open_store(config.metadata_path)
    executions = {e.node: e for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}
    return {"config": config, "executions": executions, "logs": config.task_dir / "logs"}



def test_portable_runner_runs_beam_components(portable_run):
    executions = portable_run["executions"]
    assert {node: executions[node].state for node in COMPLETED} == dict.fromkeys(COMPLETED, "COMPLETE")
    transform_graph = pathlib.Path(executions["Transform"].outputs["transform_graph"][0].uri)
    assert (transform_graph / "transform_fn" / "saved_model.pb").exists()
    transformed = pathlib.Path(executions["Transform"].outputs["transformed_examples"][0].uri)
    assert list(transformed.glob("Split-train/*.gz"))
    assert executions["Evaluator"].outputs["blessing"]  # the gate decided, on the portable runner


def test_portable_jobs_ran_on_the_job_service_in_pool_workers(portable_run):
    logs = portable_run["logs"]
    job_log = (logs / portable.JOB_LOG).read_text(errors="replace")
    done = [line for line in job_log.splitlines() if portable.JOB_DONE in line]
    assert len(done) >= len(BEAM_JOBS) and all(line.endswith("with state DONE.") for line in done)
    pool_log = (logs / portable.POOL_LOG).read_text(errors="replace")
    assert pool_log.count(portable.WORKER_STARTED) >= len(BEAM_JOBS)  # a fresh SDK worker process per job


def test_portable_services_are_stopped_after_the_run(portable_run):
    run_log = (portable_run["config"].task_dir / run_local.LOG_FILE).read_text(errors="replace")
    # the run's own `Beam:` line (libraries' lines, such as Beam's options, depend on the logging
    # this process was left with; that the jobs ran on the job service, its log shows)
    assert "portable (beam.runner=portable; job service " in run_log
    addresses = ADDRESS.findall(run_log)
    assert addresses, "the run did not say where its Beam services listened"
    assert not any(portable.accepts(address) for address in addresses[-1])
