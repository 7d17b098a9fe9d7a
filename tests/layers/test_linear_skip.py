import numpy as np
import pytest
from harness import run_layer_test

from models.layers.linear_skip import LinearSkip

SERIES = np.arange(2 * 20, dtype="float32").reshape(2, 20)  # (B, T)


@pytest.mark.slow
def test_linear_skip_layer(tmp_path):
    run_layer_test(LinearSkip, {"horizon": 3}, {"series": SERIES}, (2, 3), 2, tmp_path)


def test_linear_skip_starts_as_persistence():
    out = np.asarray(LinearSkip(4)(SERIES))
    np.testing.assert_array_equal(out, np.repeat(SERIES[:, -1:], 4, axis=1))


def test_forecast_is_the_last_value_plus_a_linear_map_of_the_deviations():
    """y[h] = x[T-1] + sum_t W[t, h] * (x[t] - x[T-1]) + b[h], the ridge forecaster's form."""
    rng = np.random.default_rng(0)
    series = rng.normal(size=(2, 20)).astype("float32")
    layer = LinearSkip(3)
    layer.build(series.shape)
    kernel = rng.normal(size=(20, 3)).astype("float32")
    bias = rng.normal(size=(3,)).astype("float32")
    layer.set_weights([kernel, bias])
    last = series[:, -1:]
    expected = last + (series - last) @ kernel + bias
    np.testing.assert_allclose(np.asarray(layer(series)), expected, rtol=1e-5, atol=1e-5)
