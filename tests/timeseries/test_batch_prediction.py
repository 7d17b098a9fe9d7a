"""`make predict-batch` on a series: Beam's RunInference with our handler gives the deployed model's
forecasts, the same as `make predict` (forecast_frame) on the last window and as a direct call of
the serving signature on every window; bad windows go to the errors file and the job goes on."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components import batch_inference, examples_io
from components.export import EXAMPLES_INPUT, SERVING_SIGNATURE
from pipeline import predict_batch
from pipeline.config import load_config
from tasks.timeseries import batch, features
from tasks.timeseries.predict import forecast_frame
from tests.timeseries.fixtures import COLUMN, series_frame

LOOKBACK, HORIZON, VERSION = 8, 4, 7
SETTINGS = [f"series.lookback={LOOKBACK}", f"series.horizon={HORIZON}", f"series.input_columns=[{COLUMN}]",
            f"series.target_columns=[{COLUMN}]", "series.time_column=time", "series.season=4"]  # fmt: skip
OUTPUT = features.forecast_output_key(COLUMN)


def save_forecaster(export_dir: str, seed: int = 0) -> str:
    """A SavedModel with the task's serving signature: serialized raw tf.Examples holding the
    `lookback` values of the column in, `forecast_<column>` (B, horizon) out. Its map is a random
    linear one, so a window sent in the wrong order or shifted by a row gets another forecast."""
    rng = np.random.default_rng(seed)
    root = tf.Module()
    root.weights = tf.Variable(rng.normal(size=(LOOKBACK, HORIZON)).astype(np.float32))
    root.bias = tf.Variable(rng.normal(size=(HORIZON,)).astype(np.float32))
    spec = {features.window_key(COLUMN): tf.io.FixedLenFeature([LOOKBACK], tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        window = tf.io.parse_example(examples, spec)[features.window_key(COLUMN)]  # (B, lookback)
        return {OUTPUT: tf.matmul(window, root.weights) + root.bias}  # (B, horizon)

    tf.saved_model.save(root, export_dir, signatures={SERVING_SIGNATURE: serve})
    return export_dir


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """OUTPUT_DIR with a pushed version; the signature, loaded as `make predict` loads it."""
    output_dir = tmp_path_factory.mktemp("out")
    model_dir = save_forecaster(str(output_dir / "timeseries" / "serving" / str(VERSION)))
    return str(output_dir), tf.saved_model.load(model_dir).signatures[SERVING_SIGNATURE]


def _predict_batch(output_dir: str, csv: str, out: str, *flags: str) -> int:
    return predict_batch.main(["--task", "timeseries", "--output-dir", output_dir, "--data", csv, "--out", out,
                               *[a for s in SETTINGS for a in ("--set", s)], *flags])  # fmt: skip


def _direct(serve, frame: pd.DataFrame, end: int) -> np.ndarray:
    window = frame[COLUMN].to_numpy(dtype=np.float32)[end - LOOKBACK : end]
    example = examples_io.to_tf_example({features.window_key(COLUMN): window}).SerializeToString()
    return serve(**{EXAMPLES_INPUT: tf.constant([example])})[OUTPUT].numpy()[0]  # (horizon,)


def _forecasts(table: pd.DataFrame) -> np.ndarray:
    return table[[f"{OUTPUT}_{h}" for h in range(1, HORIZON + 1)]].to_numpy()  # (rows, horizon)


@pytest.mark.slow
def test_every_window_is_the_signatures_forecast_and_the_last_is_make_predicts(deployed, tmp_path):
    output_dir, serve = deployed
    frame = series_frame(rows=40)
    csv = tmp_path / "series.csv"
    frame.to_csv(csv, index=False)

    assert _predict_batch(output_dir, str(csv), str(tmp_path / "all.csv")) == 0
    table = pd.read_csv(tmp_path / "all.csv")
    ends = range(LOOKBACK, len(frame) + 1)
    assert table["key"].tolist() == [str(pd.Timestamp(frame["time"].iloc[end - 1])) for end in ends]
    assert set(table[batch_inference.VERSION_COLUMN]) == {VERSION}
    np.testing.assert_allclose(_forecasts(table), np.stack([_direct(serve, frame, end) for end in ends]), rtol=1e-5, atol=1e-4)
    assert not os.path.exists(batch_inference.errors_path(str(tmp_path / "all.csv")))

    assert _predict_batch(output_dir, str(csv), str(tmp_path / "last.jsonl"), "--last") == 0
    last = pd.read_json(tmp_path / "last.jsonl", lines=True)
    config = load_config("timeseries", overrides=SETTINGS, output_dir=output_dir)
    expected = forecast_frame(config, str(csv), serve)[COLUMN].to_numpy()
    assert len(last) == 1 and last["key"].iloc[0] == table["key"].iloc[-1]
    np.testing.assert_allclose(np.asarray(last[OUTPUT].iloc[0]), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(_forecasts(table)[-1], expected, rtol=1e-5, atol=1e-4)


def test_bad_windows_go_to_the_errors_file_and_the_rest_are_predicted(deployed, tmp_path):
    output_dir, serve = deployed
    frame = series_frame(rows=30).astype({COLUMN: object})
    frame.loc[12, COLUMN] = None  # a missing value
    frame.loc[25, COLUMN] = "n/a?"  # not a number
    csv = tmp_path / "series.csv"
    frame.to_csv(csv, index=False)
    out = str(tmp_path / "preds.csv")

    assert _predict_batch(output_dir, str(csv), out) == 0
    errors = pd.read_csv(batch_inference.errors_path(out))
    table = pd.read_csv(out)
    time_of = lambda row: str(pd.Timestamp(frame["time"].iloc[row]))  # noqa: E731
    bad_ends = [end for end in range(LOOKBACK, len(frame) + 1) if {12, 25} & set(range(end - LOOKBACK, end))]
    good_ends = [end for end in range(LOOKBACK, len(frame) + 1) if end not in bad_ends]
    assert errors["key"].tolist() == [time_of(end - 1) for end in bad_ends]
    assert errors["reason"].str.contains(f"missing value at {time_of(12)}").sum() == 8
    assert errors["reason"].str.contains(f"not a number at {time_of(25)}").sum() == len(bad_ends) - 8
    assert table["key"].tolist() == [time_of(end - 1) for end in good_ends]
    numeric = frame.assign(**{COLUMN: pd.to_numeric(frame[COLUMN], errors="coerce")})
    np.testing.assert_allclose(_forecasts(table), np.stack([_direct(serve, numeric, end) for end in good_ends]), rtol=1e-5, atol=1e-4)


def test_the_handler_gives_a_refused_example_its_own_reason(deployed, tmp_path):
    """A malformed example fails its whole batch in `parse_example`; the others still get predictions."""
    _, serve = deployed
    handler = batch_inference.SignatureHandler(os.path.join(deployed[0], "timeseries", "serving", str(VERSION)))
    model = handler.load_model()
    good = [examples_io.to_tf_example({COLUMN: np.arange(LOOKBACK, dtype=np.float32) + i}).SerializeToString() for i in range(3)]
    short = examples_io.to_tf_example({COLUMN: np.arange(LOOKBACK - 1, dtype=np.float32)}).SerializeToString()
    results = list(handler.run_inference([good[0], short, good[1], good[2]], model))
    assert isinstance(results[1].inference, batch_inference.Failed) and "refused" in results[1].inference.reason
    direct = serve(**{EXAMPLES_INPUT: tf.constant(good)})[OUTPUT].numpy()
    np.testing.assert_allclose(np.stack([results[i].inference[OUTPUT] for i in (0, 2, 3)]), direct, rtol=1e-6)


def test_inputs_key_windows_by_their_last_time(tmp_path):
    frame = series_frame(rows=12)
    csv = tmp_path / "s.csv"
    frame.to_csv(csv, index=False)
    config = load_config("timeseries", overrides=SETTINGS)
    items = list(batch.inputs(config, str(csv)))
    assert len(items) == 12 - LOOKBACK + 1
    assert [key for key, *_ in items] == [str(pd.Timestamp(t)) for t in frame["time"].iloc[LOOKBACK - 1 :]]
    assert list(batch.inputs(config, str(csv), last=True)) == items[-1:]
