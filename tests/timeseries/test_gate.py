"""The anomaly gate stops on every kind of bad data, naming the feature and the anomaly.

Windows are written by the ExampleGen's own code, statistics computed and validated
by TFDV against the curated schema, exactly as the pipeline does, on a small slice
of the default data set.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tfx.utils import io_utils

from components import anomaly_gate
from pipeline.config import load_config
from tasks.timeseries import source as timeseries_source
from tasks.timeseries import windowing
from tasks.timeseries.config import SeriesConfig
from tasks.timeseries.example_gen import write_windows


@pytest.fixture(scope="module")
def schema():
    return tfdv.load_schema_text(load_config("timeseries").schema_path)


@pytest.fixture(scope="module")
def clean_frame(tmp_path_factory):
    path = timeseries_source.prepare_default_csv(str(tmp_path_factory.mktemp("data")))
    return pd.read_csv(path).iloc[:400]


def _validate(tmp_path, frame, schema) -> str:
    """Window `frame`, validate its train split, write SchemaDiff.pb as ExampleValidator does."""
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    examples = tmp_path / "examples"
    write_windows(str(csv), SeriesConfig(), str(examples))
    stats = tfdv.generate_statistics_from_tfrecord(str(examples / "Split-train" / "*.gz"))
    anomalies = tfdv.validate_statistics(stats, schema)
    out = tmp_path / "anomalies" / "Split-train"
    os.makedirs(out)
    io_utils.write_bytes_file(str(out / anomaly_gate.SCHEMA_DIFF_FILE), anomalies.SerializeToString())
    return str(tmp_path / "anomalies")


@pytest.mark.slow
def test_clean_data_passes(tmp_path, clean_frame, schema):
    anomaly_gate.check(_validate(tmp_path, clean_frame, schema), ["train"])


def _corrupt_nan(frame):
    frame.loc[50, "glucose"] = np.nan
    return frame


def _corrupt_range(frame):
    frame.loc[50, "glucose"] = 500.0  # the monitor reports 40..400 mg/dL
    return frame


def _corrupt_type(frame):
    frame["glucose"] = frame["glucose"].astype(str)
    frame.loc[50, "glucose"] = "HIGH"  # what a monitor shows above its range
    return frame


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (_corrupt_nan, "feature 'glucose': Invalid values: Float feature has NaN"),
        (_corrupt_range, "feature 'glucose': Out-of-range values"),
        (_corrupt_type, "feature 'glucose': Unexpected data type: Expected data of type: FLOAT but got STRING"),
    ],
    ids=["nan", "out_of_range", "wrong_type"],
)
@pytest.mark.slow
def test_each_anomaly_kind_stops_the_run(tmp_path, clean_frame, schema, corrupt, message):
    uri = _validate(tmp_path, corrupt(clean_frame.copy()), schema)
    with pytest.raises(anomaly_gate.DataValidationError) as error:
        anomaly_gate.check(uri, ["train"])
    assert "[split train]" in str(error.value)
    assert message in str(error.value)


def test_a_missing_column_stops_at_the_example_gen_naming_file_and_columns(tmp_path, clean_frame):
    csv = tmp_path / "data.csv"
    clean_frame.rename(columns={"glucose": "bg"}).to_csv(csv, index=False)
    with pytest.raises(windowing.SeriesError) as error:
        write_windows(str(csv), SeriesConfig(), str(tmp_path / "examples"))
    assert str(csv) in str(error.value)
    assert "no column(s) ['glucose'] (columns: ['time', 'bg'])" in str(error.value)
