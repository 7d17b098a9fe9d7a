"""One small time-series run made as a user makes it, shared by the modules in `READERS`.

A CSV with the user's column names, their config, a schema drafted by `make schema`, and the
run itself on Beam's PortableRunner (`beam.runner=portable`: a job service and a worker pool,
the path Flink, Spark and Dataflow Runner v2 take). `inspect`, `report`, `predict` and
`serve` read it without the config (they must find the run's own), and
`tests/e2e/test_portable_runner.py` checks where its Beam jobs ran. One run serves both: a
second run of the same pipeline cost 70-115 s of `make test`. Under `make test`'s
`--dist loadscope`, `tests/conftest.py` schedules the `READERS` on one worker, so that this
session fixture is made once.
"""
from __future__ import annotations

import pathlib
import time

import pytest
import yaml

USER_COLUMNS = {"time": "stamp", "glucose": "bg"}  # the default series under a user's names
SMALL_RUN = ["tuner.max_trials=1", "tuner.epochs=1", "tuner.steps_per_epoch=5", "trainer.epochs=1"]
READERS = ("tests/orchestration/test_inspect_report.py", "tests/e2e/test_portable_runner.py")


@pytest.fixture(scope="session", name="user_run")
def shared_user_run(tmp_path_factory) -> pathlib.Path:
    """The run's output directory; its CSV is `plant.csv` beside it."""
    from pipeline import draft_schema  # here, not above: tests/conftest.py imports this module in
    from pipeline.config import pipeline_config_path  # every process, xdist's controller too
    from tests.e2e.runs import run_task
    from tests.e2e.tiny import write_tiny_csv

    root = tmp_path_factory.mktemp("user-run")
    _, frame = write_tiny_csv(root)
    frame.rename(columns=USER_COLUMNS).to_csv(root / "plant.csv", index=False)
    config = yaml.safe_load(pipeline_config_path("timeseries").read_text())
    config["schema"] = str(root / "plant_schema.pbtxt")
    config["series"].update(time_column="stamp", input_columns=["bg"], target_columns=["bg"])
    (root / "plant.yaml").write_text(yaml.safe_dump(config))
    output_dir = root / "output"
    data, user_config = root / "plant.csv", root / "plant.yaml"
    args = ["--task", "timeseries", "--output-dir", str(output_dir), "--data", str(data), "--config", str(user_config)]
    assert draft_schema.main(args) == 0
    started = time.perf_counter()
    assert run_task("timeseries", output_dir, *SMALL_RUN, "beam.runner=portable", data=data, config=user_config) == 0
    print(f"user run on the portable runner: {time.perf_counter() - started:.0f} s")  # pytest -s
    return output_dir
