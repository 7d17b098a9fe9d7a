"""The shipped schema's skew threshold on the default series (make monitor): the test split's
windows, 300 requests at a time, raise no skew alarm against the train split's statistics;
the same shifted by one train standard deviation, up or down, do, naming `glucose`.

Windows come from the ExampleGen's own planning (70/15/15 by time, the config's lookback and
stride); statistics and comparisons are TFDV's, through components/serving_monitor.py."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components import serving_monitor
from data import schemas
from pipeline.config import load_config
from tasks.timeseries import features, windowing
from tasks.timeseries import source as timeseries_source

WINDOW = 300  # requests per monitor window, as the schema's comment measures it


@pytest.fixture(scope="module")
def split_windows(tmp_path_factory) -> dict[str, np.ndarray]:
    """Split name -> (windows, lookback) glucose values of the default series."""
    config = load_config("timeseries")
    path = timeseries_source.prepare_default_csv(str(tmp_path_factory.mktemp("data")))
    plan, _ = windowing.plan_windows(windowing.read_series(path, config.series.time_column), config.series)
    key = features.window_key(config.series.input_columns[0])
    found = {}
    for split in ("train", "test"):
        frame, starts = plan[split]
        rows = windowing.iter_windows(frame, starts, config.series.input_columns, [], config.series.lookback, 0)
        found[split] = np.stack([row[key] for row in rows]).astype(np.float32)
    return found


@pytest.fixture(scope="module")
def schema():
    return schemas.load(load_config("timeseries").schema_path)


def examples(windows: np.ndarray) -> list[tf.train.Example]:
    made = []
    for window in windows:
        example = tf.train.Example()
        example.features.feature["glucose"].float_list.value.extend(window)
        made.append(example)
    return made


def skew_alarms(windows: np.ndarray, training, schema) -> list[str]:
    verdict = serving_monitor.validate(serving_monitor.statistics(examples(windows)), schema, training)
    return [line for line in verdict.lines if ": skew: " in line]


def test_test_windows_pass_and_a_one_std_shift_is_flagged(split_windows, schema):
    training = serving_monitor.statistics(examples(split_windows["train"]))
    std = float(np.std(split_windows["train"]))
    test = split_windows["test"]
    chunks = [test[start : start + WINDOW] for start in range(0, len(test) - WINDOW + 1, WINDOW)]
    assert len(chunks) >= 2
    for chunk in chunks:
        assert skew_alarms(chunk, training, schema) == []
        for shift in (std, -std):
            [line] = skew_alarms(chunk + np.float32(shift), training, schema)
            assert line.startswith("glucose: skew: Jensen-Shannon divergence") and "against training" in line


def test_the_skew_threshold_is_declared_in_the_shipped_schema(schema):
    thresholds = serving_monitor.thresholds(schema, "skew_comparator")
    assert thresholds["glucose"][0] == "Jensen-Shannon divergence" and 0 < thresholds["glucose"][1] < 1
    assert "glucose_target" not in thresholds  # labels are not served
