"""The local profile's `portable` preset and its services (pipeline/portable.py), without a pipeline run:
a Beam job submitted to the job service runs in SDK worker processes the pool starts, and
both services are gone after the block."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline import portable
from pipeline.config import load_config
from pipeline.profile import load_profile

PRESET = "portable"



def test_the_portable_preset_runs_on_the_local_services(tmp_path):
    profile = load_profile("local")
    config = load_config("timeseries", overrides=[f"beam.runner={PRESET}"], output_dir=str(tmp_path))
    assert portable.needs_services(profile.beam_preset(PRESET))
    assert not portable.needs_services(profile.beam_preset("direct"))
    with pytest.raises(ValueError, match="job_endpoint.*make run-local"):
        profile.beam_pipeline_args(config)  # the addresses exist only while the services run
    args = profile.beam_pipeline_args(config, services={"job_endpoint": "localhost:1", "worker_pool": "localhost:2"})
    assert args == ["--runner=PortableRunner", "--job_endpoint=localhost:1",
                    "--environment_type=EXTERNAL", "--environment_config=localhost:2", "--pickle_library=cloudpickle"]  # fmt: skip


@pytest.mark.slow
def test_a_job_runs_in_worker_processes_of_the_pool_and_the_services_stop(tmp_path):
    taken = socket.socket()
    taken.bind(("localhost", 0))
    taken.listen()  # the preferred job port is busy: the service moves to a free one
    busy = taken.getsockname()[1]
    try:
        with portable.services(tmp_path, ports={"job_endpoint": busy}) as services:
            assert services.moved and services.job_endpoint != f"localhost:{busy}"
            # cloudpickle: the lambda travels by value, since the workers cannot import this file
            options = PipelineOptions(["--runner=PortableRunner", f"--job_endpoint={services.job_endpoint}",
                                       "--environment_type=EXTERNAL", f"--environment_config={services.worker_pool}",
                                       "--pickle_library=cloudpickle"])  # fmt: skip
            out = tmp_path / "parents"
            with beam.Pipeline(options=options) as pipeline:
                _ = (pipeline | beam.Create(range(20)) | beam.Map(lambda _: (os.getpid(), os.getppid()))
                     | beam.Distinct() | beam.Map(json.dumps) | beam.io.WriteToText(str(out)))  # fmt: skip
            pool_pid, addresses = services.pool.pid, services.values()
            started = services.workers_started()
    finally:
        taken.close()
    pairs = {tuple(json.loads(line)) for path in tmp_path.glob("parents*") for line in path.read_text().splitlines()}
    assert pairs and all(pid != os.getpid() and parent == pool_pid for pid, parent in pairs)  # the pool's children
    assert started >= 1
    assert not any(portable.accepts(address) for address in addresses.values())  # both stopped


def test_a_service_that_exits_before_listening_is_reported(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(portable.ServiceError, match="exited with 3"):
        portable.wait_listening(portable.free_port(), process, tmp_path / "log", timeout=30)
