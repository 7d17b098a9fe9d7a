"""TransformerLayerBase and ResidualBlock are abstract: they are tested through the smallest
concrete block, one feed-forward sublayer with its residual and LayerNorm."""
import keras
import numpy as np
import pytest
from harness import run_layer_test

from models.layers.base import ResidualBlock, TransformerLayerBase, check_heads, keras_mask

X = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
EPSILON = 1e-3


@keras.saving.register_keras_serializable(package="tests_layers")
class FeedForwardBlock(ResidualBlock):
    """x -> x + FFN(x) with ResidualBlock's LayerNorm placement; no attention."""

    def build(self, x_shape):
        self._build_feedforward(x_shape)
        self.built = True

    def call(self, x, training=None):
        return self._feedforward_residual(x, training)

    def compute_output_shape(self, x_shape):
        return x_shape


def _block(norm_first, epsilon=EPSILON):
    block = FeedForwardBlock(2, 5, norm_first=norm_first, layer_norm_epsilon=epsilon)
    block.build(X.shape)
    return block


def _layer_norm(x):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + EPSILON)


@pytest.mark.slow
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_residual_block(tmp_path, norm_first):
    run_layer_test(
        FeedForwardBlock,
        {
            "num_heads": 2,
            "intermediate_dim": 5,
            "dropout": 0.1,
            "norm_first": norm_first,
            "activation": "gelu",
            "layer_norm_epsilon": EPSILON,
        },
        {"x": X},
        (2, 4, 6),
        6,  # 2 Dense (kernel + bias), 1 LayerNorm (gamma + beta)
        tmp_path,
    )


def test_config_mirrors_the_six_shared_arguments():
    layer = TransformerLayerBase(
        2, 16, dropout=0.1, norm_first=True, activation="gelu", layer_norm_epsilon=EPSILON
    )
    config = layer.get_config()
    expected = {
        "num_heads": 2,
        "intermediate_dim": 16,
        "dropout": 0.1,
        "norm_first": True,
        "activation": "gelu",
        "layer_norm_epsilon": EPSILON,
    }
    assert {k: config[k] for k in expected} == expected
    restored = TransformerLayerBase.from_config(config)
    assert restored.activation is keras.activations.gelu
    assert restored.supports_masking


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_layer_norm_placement(norm_first):
    """With the sublayer silenced (output Dense zeroed), pre-norm is the identity,
    x + 0, and post-norm is LayerNorm(x + 0): the norm is inside or after the residual."""
    block = _block(norm_first)
    dense = block.feedforward_output_dense
    dense.set_weights([np.zeros_like(w) for w in dense.get_weights()])
    out = block(X).numpy()
    expected = X if norm_first else _layer_norm(X)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_pre_norm_feeds_the_sublayer_a_normalized_input():
    """Pre-norm: x + FFN(LayerNorm(x)), so scaling and shifting x leaves out - x unchanged."""
    block = _block(norm_first=True, epsilon=1e-7)  # so LayerNorm is (nearly) scale invariant
    residual = block(X).numpy() - X
    moved = 4.0 * X + 3.0
    np.testing.assert_allclose(block(moved).numpy() - moved, residual, rtol=1e-4, atol=1e-4)


def test_keras_mask_reads_an_upstream_mask():
    padded = X.copy()
    padded[1, 2:] = 0.0
    assert keras_mask(keras.ops.convert_to_tensor(X)) is None
    np.testing.assert_array_equal(
        np.asarray(keras_mask(keras.layers.Masking()(padded))), [[1, 1, 1, 1], [1, 1, 0, 0]]
    )


def test_check_heads_says_what_to_change():
    check_heads(8, 4)  # divisible: no error
    with pytest.raises(ValueError, match=r"`hidden_dim` \(6\) must be divisible by `num_heads` \(4\)"):
        check_heads(6, 4)
