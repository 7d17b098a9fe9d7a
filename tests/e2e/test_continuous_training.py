"""End to end: `make simulate` on the packaged series, 4 days, a drift from day 2, the fourth span
corrupt; then a rerun.

One simulation (pipeline/simulate.py) with the small budget: spans arrive day by day, day 2
warm-starts from day 1's blessed model, day 3's corrupt span stops at validation while the
deployed version keeps serving byte for byte. Each day after the first, the served model
answers the day's requests, which are logged and monitored over the last two days: the drift
(one standard deviation) raises the monitor's skew alarm on its first or second day. Day 4's
corrupt span stops at validation. Then the corrupt span is withdrawn and the pipeline reruns
on the same spans as day 3: every component is taken from cache.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline import mlmd, monitor
from pipeline.config import load_config
from pipeline.simulate import SETTINGS
from serving import request_log
from tests.e2e.tiny import SMALL_BUDGET

pytestmark = pytest.mark.e2e

DAYS, DRIFT_DAY, BREAK_DAY = 4, 2, 4
TIMEOUT = 900  # seconds: a hung simulation fails the test, not the CI
# The small budget, and one epoch from the blessed model (the schedule's 3 are a quality setting;
# what is tested here is that a day starts from it)
SIMULATION_BUDGET = [*SMALL_BUDGET, "trainer.warm_start_epochs=1"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    output = tmp_path_factory.mktemp("simulate")
    command = [sys.executable, "-m", "pipeline.simulate", "--task", "timeseries", "--days", str(DAYS),
               "--drift-day", str(DRIFT_DAY), "--break-day", str(BREAK_DAY), "--output-dir", str(output)]  # fmt: skip
    for item in SIMULATION_BUDGET:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    root = output / "timeseries" / "simulation"
    return {"root": root, "out": done.stdout, "timeline": json.loads((root / "timeline.json").read_text()),
            "runs": load_config("timeseries", output_dir=str(root / "runs"))}  # fmt: skip


def test_each_day_reads_one_more_span(simulated):
    assert [d["spans"] for d in simulated["timeline"]] == [list(range(day + 1)) for day in range(1, DAYS + 1)]
    assert all(f"day {d}: spans" in simulated["out"] for d in range(1, DAYS + 1))


def test_the_first_days_push_and_the_next_day_scores_what_served(simulated):
    first, second = simulated["timeline"][:2]
    assert first["blessed"] and first["pushed"] and first["served_version"]
    assert first["served_mae"] > 0 and first["persistence_mae"] > 0  # day 2's values, once they arrived
    if second["pushed"]:
        assert second["served_version"] != first["served_version"]
    else:
        assert second["served_version"] == first["served_version"] and second["deployed_unchanged"] is True


def test_the_monitor_watches_each_days_requests_and_flags_the_drift(simulated):
    first, second, third, fourth = simulated["timeline"]
    assert first["monitor"] is None  # nothing was deployed on day 1: no request answered
    assert "monitor: no requests" in next(line for line in simulated["out"].splitlines() if line.startswith("day 1:"))
    assert 0 < second["monitor"]["requests"] < third["monitor"]["requests"]  # day 2's, then days 2 and 3's
    flagged = [day["monitor"] for day in (second, third) if day["monitor"]["alarm"]]  # DRIFT_DAY or the day after
    assert flagged and all(line.startswith("glucose: skew: Jensen-Shannon divergence") for line in flagged[0]["lines"])
    assert "monitor: ALARM glucose skew" in simulated["out"]
    assert fourth["monitor"]["alarm"]  # the corrupt day's zeros, as the served model received them
    assert any("glucose: schema: Out-of-range values" in line for line in fourth["monitor"]["lines"])
    logged = request_log.read(request_log.folder(simulated["runs"].task_dir))
    assert len(logged) == second["monitor"]["requests"] + fourth["monitor"]["requests"]  # days 2, then 3 and 4
    store = mlmd.open_store(simulated["runs"].metadata_path)
    assert len(store.get_executions_by_type(monitor.EXECUTION_TYPE)) == DAYS - 1  # one Monitor execution a watched day


def test_day_two_starts_from_the_blessed_model(simulated):
    log = (simulated["root"] / "logs" / "day-2.log").read_text()
    assert "Trainer: warm start from" in log and "trains from scratch" not in log


def test_a_corrupt_span_stops_at_validation_and_the_deployed_model_keeps_serving(simulated):
    before, broken = simulated["timeline"][BREAK_DAY - 2 : BREAK_DAY]
    assert not broken["blessed"] and not broken["pushed"]
    assert broken["verdict"].startswith("stopped at validation (AnomalyGate)") and "glucose" in broken["verdict"]
    assert broken["served_version"] == before["served_version"]
    assert broken["deployed_unchanged"] is True  # every file of the deployed version, byte for byte
    assert broken["served_mae"] is None  # no truth for the last day yet


@pytest.fixture(scope="module")
def rerun(simulated):
    """The corrupt span withdrawn: the data are day 3's again, and the pipeline reruns on them."""
    data = simulated["root"] / "data"
    (data / f"series-{BREAK_DAY}-v1.csv").unlink()
    runs = simulated["runs"]
    command = [sys.executable, "-m", "pipeline.run_local", "--task", "timeseries", "--data",
               str(data / "series-{SPAN}-v{VERSION}.csv"), "--output-dir", runs.output_dir]  # fmt: skip
    for item in [*SETTINGS, *SIMULATION_BUDGET]:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    store = mlmd.open_store(runs.metadata_path)
    return {e.node: e.state for e in mlmd.run_executions(store, mlmd.runs(store)[-1])}


def test_a_rerun_with_no_new_span_is_fully_cached(rerun):
    components = {node: state for node, state in rerun.items() if not node.endswith("Resolver")}
    assert "Trainer" in components and "Pusher" in components
    assert set(components.values()) == {"CACHED"}, components
