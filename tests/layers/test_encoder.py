import keras
import numpy as np
import pytest
from harness import assert_padding_is_hidden, run_layer_test

from models.layers import Encoder, EncoderLayer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 8)).astype("float32")
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype="bool")

# Weights of one layer: attention 8 (q, k, v, out kernels + biases), 2 LayerNorms 4, 2 Dense 4.
LAYER_WEIGHTS = 16


@pytest.mark.slow
def test_encoder_layer(tmp_path):
    run_layer_test(
        EncoderLayer,
        {"num_heads": 2, "intermediate_dim": 16},
        {"x": X, "padding_mask": MASK},
        (2, 4, 8),
        LAYER_WEIGHTS,
        tmp_path,
    )


@pytest.mark.slow
def test_encoder(tmp_path):
    run_layer_test(
        Encoder,
        {"num_layers": 2, "num_heads": 2, "intermediate_dim": 16, "norm_first": True},
        {"x": X, "padding_mask": MASK},
        (2, 4, 8),
        2 * LAYER_WEIGHTS + 2,  # + the final LayerNorm of a pre-norm stack
        tmp_path,
    )


@pytest.mark.parametrize(
    "layer",
    [EncoderLayer(2, 16, norm_first=True), Encoder(2, 2, 16)],
    ids=["encoder_layer", "encoder"],
)
def test_padding_is_hidden(layer):
    assert_padding_is_hidden(lambda x: layer(x, padding_mask=MASK).numpy(), X, MASK)


def test_encoder_layer_is_never_causal():
    """An encoder is bidirectional: `causal` is dropped, so position 0 sees the last position."""
    layer = EncoderLayer(2, 16, causal=True)
    assert layer.causal is False
    assert "causal" not in layer.get_config()
    before = layer(X).numpy()
    changed = X.copy()
    changed[:, -1] += 5.0
    assert not np.allclose(layer(changed).numpy()[:, 0], before[:, 0], atol=1e-5)


def test_keras_mask_is_the_default_padding_mask():
    """Padding marked upstream (here by Masking) reaches attention without `padding_mask`.

    Only real positions are compared: the Keras mask also masks padded queries."""
    encoder = Encoder(2, 2, 16)
    padded = np.where(MASK[..., None], X, 0.0).astype("float32")  # (2, 4, 8), pads all zero
    by_keras_mask = encoder(keras.layers.Masking()(padded)).numpy()
    by_argument = encoder(padded, padding_mask=MASK).numpy()
    np.testing.assert_allclose(by_keras_mask[MASK], by_argument[MASK], rtol=1e-5, atol=1e-6)
    unmasked = encoder(padded).numpy()
    assert not np.allclose(unmasked[MASK], by_argument[MASK], atol=1e-5)  # the mask mattered


@pytest.mark.parametrize("norm_first", [False, True])
def test_only_a_pre_norm_stack_ends_with_a_layer_norm(norm_first):
    """Pre-norm layers leave the residual stream unnormalized, so the stack normalizes it."""
    encoder = Encoder(3, 2, 16, norm_first=norm_first)
    out = encoder(3.0 * X + 1.0).numpy()  # (2, 4, 8)
    assert len(encoder.encoder_layers) == 3
    assert len(encoder.trainable_weights) == 3 * LAYER_WEIGHTS + (2 if norm_first else 0)
    assert (encoder.final_norm is not None) == norm_first
    # Post-norm layers end with a LayerNorm too: either way each position is standardized.
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=-1), 1.0, atol=1e-3)
