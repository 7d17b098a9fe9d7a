"""End to end: `make simulate` on the packaged series, 3 days, the third span corrupt; then a rerun.

One simulation (pipeline/simulate.py) with the small budget: spans arrive day by day, day 2
warm-starts from day 1's blessed model, day 3's corrupt span stops at validation while the
deployed version keeps serving byte for byte. Then the corrupt span is withdrawn and the
pipeline reruns on the same spans as day 2: every component is taken from cache.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline import mlmd
from pipeline.config import load_config
from pipeline.simulate import SETTINGS
from tests.e2e.tiny import SMALL_BUDGET

pytestmark = pytest.mark.e2e

DAYS, BREAK_DAY = 3, 3
TIMEOUT = 900  # seconds: a hung simulation fails the test, not the CI


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    output = tmp_path_factory.mktemp("simulate")
    command = [sys.executable, "-m", "pipeline.simulate", "--task", "timeseries", "--days", str(DAYS),
               "--break-day", str(BREAK_DAY), "--output-dir", str(output)]  # fmt: skip
    for item in SMALL_BUDGET:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    root = output / "timeseries" / "simulation"
    return {"root": root, "out": done.stdout, "timeline": json.loads((root / "timeline.json").read_text()),
            "runs": load_config("timeseries", output_dir=str(root / "runs"))}  # fmt: skip


def test_each_day_reads_one_more_span(simulated):
    assert [d["spans"] for d in simulated["timeline"]] == [[0, 1], [0, 1, 2], [0, 1, 2, 3]]
    assert all(f"day {d}: spans" in simulated["out"] for d in range(1, DAYS + 1))


def test_the_first_days_push_and_the_next_day_scores_what_served(simulated):
    first, second, _ = simulated["timeline"]
    assert first["blessed"] and first["pushed"] and first["served_version"]
    assert first["served_mae"] > 0 and first["persistence_mae"] > 0  # day 2's values, once they arrived
    if second["pushed"]:
        assert second["served_version"] != first["served_version"]
    else:
        assert second["served_version"] == first["served_version"] and second["deployed_unchanged"] is True


def test_day_two_starts_from_the_blessed_model(simulated):
    log = (simulated["root"] / "logs" / "day-2.log").read_text()
    assert "Trainer: warm start from" in log and "trains from scratch" not in log


def test_a_corrupt_span_stops_at_validation_and_the_deployed_model_keeps_serving(simulated):
    _, second, third = simulated["timeline"]
    assert not third["blessed"] and not third["pushed"]
    assert third["verdict"].startswith("stopped at validation (AnomalyGate)") and "glucose" in third["verdict"]
    assert third["served_version"] == second["served_version"]
    assert third["deployed_unchanged"] is True  # every file of the deployed version, byte for byte
    assert third["served_mae"] is None  # no truth for day 3 yet


@pytest.fixture(scope="module")
def rerun(simulated):
    """The corrupt span withdrawn: the data are day 2's again, and the pipeline reruns on them."""
    data = simulated["root"] / "data"
    (data / f"series-{BREAK_DAY}-v1.csv").unlink()
    runs = simulated["runs"]
    command = [sys.executable, "-m", "pipeline.run_local", "--task", "timeseries", "--data",
               str(data / "series-{SPAN}-v{VERSION}.csv"), "--output-dir", runs.output_dir]  # fmt: skip
    for item in [*SETTINGS, *SMALL_BUDGET]:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    store = mlmd.open_store(runs.metadata_path)
    return {e.node: e.state for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}


def test_a_rerun_with_no_new_span_is_fully_cached(rerun):
    components = {node: state for node, state in rerun.items() if not node.endswith("Resolver")}
    assert "Trainer" in components and "Pusher" in components
    assert set(components.values()) == {"CACHED"}, components
