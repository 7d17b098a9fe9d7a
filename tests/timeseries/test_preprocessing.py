"""`preprocessing_fn` through tensorflow-transform's Beam implementation, on a fixture."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from tasks.timeseries import features
from tasks.timeseries.preprocessing import preprocessing_fn
from tests.timeseries.fixtures import small_series_config


@pytest.mark.slow
def test_normalizes_with_train_statistics_and_emits_them(tmp_path):
    series = small_series_config(lookback=3, horizon=2)
    col = "temperature"
    windows = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], np.float32)
    targets = np.array([[4.0, 5.0], [6.0, 7.0]], np.float32)
    data = [{col: w, features.target_key(col): t} for w, t in zip(windows, targets, strict=True)]
    spec = {
        col: tf.io.FixedLenFeature([3], tf.float32),
        features.target_key(col): tf.io.FixedLenFeature([2], tf.float32),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    custom_config = {"series": dataclasses.asdict(series)}
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (transformed, _), _ = (data, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, custom_config)
        )
    mean, std = windows.mean(), windows.std()  # statistics of the input windows only
    first = transformed[0]
    np.testing.assert_allclose(first[features.transformed_key(col)], (windows[0] - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(
        first[features.transformed_key(features.target_key(col))], (targets[0] - mean) / std, rtol=1e-5
    )
    assert first[features.mean_key(col)] == pytest.approx([mean])
    assert first[features.std_key(col)] == pytest.approx([std], rel=1e-5)


@pytest.mark.slow
def test_constant_column_does_not_divide_by_zero(tmp_path):
    series = small_series_config(lookback=2, horizon=1)
    col = "temperature"
    data = [{col: np.array([5.0, 5.0], np.float32), features.target_key(col): np.array([5.0], np.float32)}] * 3
    spec = {col: tf.io.FixedLenFeature([2], tf.float32), features.target_key(col): tf.io.FixedLenFeature([1], tf.float32)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (transformed, _), _ = (data, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, {"series": dataclasses.asdict(series)})
        )
    assert np.isfinite(transformed[0][features.transformed_key(col)]).all()


@pytest.mark.slow
def test_eval_windows_are_normalized_with_train_statistics_only(tmp_path):
    """What Transform's SplitsConfig(analyze=["train"]) means: analyse train, transform eval with it."""
    series = small_series_config(lookback=2, horizon=1)
    col = "temperature"
    spec = {col: tf.io.FixedLenFeature([2], tf.float32), features.target_key(col): tf.io.FixedLenFeature([1], tf.float32)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    train_windows = np.array([[0.0, 2.0], [2.0, 4.0]], np.float32)  # mean 2, std sqrt(2)
    eval_windows = np.array([[100.0, 110.0]], np.float32)  # a different regime: must not move the statistics
    train = [{col: w, features.target_key(col): w[-1:]} for w in train_windows]
    evaluation = [{col: w, features.target_key(col): w[-1:]} for w in eval_windows]
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        transform_fn = (train, metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: preprocessing_fn(inputs, {"series": dataclasses.asdict(series)})
        )
        transformed, _ = ((evaluation, metadata), transform_fn) | tft_beam.TransformDataset()
    mean, std = train_windows.mean(), train_windows.std()
    np.testing.assert_allclose(transformed[0][features.transformed_key(col)], (eval_windows[0] - mean) / std, rtol=1e-5)
    assert transformed[0][features.mean_key(col)] == pytest.approx([mean])
